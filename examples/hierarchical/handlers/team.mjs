const FACTS = { market: 'three competitors', users: 'teams of 5-50' };
const DAYS = { api: 5, ui: 8 };

export function research({ topic }) {
  return FACTS[topic] ?? 'unknown';
}

export function estimate({ component }) {
  return DAYS[component] ?? 3;
}

export function summarise({ results }) {
  const days = Object.values(results.build ?? {}).reduce((sum, d) => sum + d, 0);
  return { findings: results.discovery, total_days: days };
}
