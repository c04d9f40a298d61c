export function extract({ csv }) {
  const [header, ...lines] = csv.trim().split('\n');
  const keys = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [keys[i], v])));
}

export function transform({ input }) {
  return input.filter((r) => r.status === 'paid').map((r) => ({ ...r, total: Number(r.qty) * Number(r.price) }));
}

export function load({ input }) {
  return { rows: input.length, revenue: input.reduce((sum, r) => sum + r.total, 0) };
}
