/** Tokens and cost as one short phrase: `1,234 in / 56 out tokens, $0.0042`. Token counts are never redacted. */
export function usageText(usage: { input_tokens: number; output_tokens: number; cost_usd?: number }): string {
  const cost = usage.cost_usd === undefined ? '' : `, $${usage.cost_usd.toFixed(4)}`;
  return `${usage.input_tokens.toLocaleString('en-US')} in / ${usage.output_tokens.toLocaleString('en-US')} out tokens${cost}`;
}
