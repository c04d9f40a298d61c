const PRICES = { apple: 0.5, bread: 2.25, cheese: 6 };

export function quote({ item, qty }) {
  if (!(item in PRICES)) throw new Error(`no price for ${item}`);
  return PRICES[item] * qty;
}

export function total({ results }) {
  return Object.values(results).reduce((sum, n) => sum + n, 0);
}
