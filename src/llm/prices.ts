import type { ModelPrice } from '../config/model.js';
import type { ModelRef } from './models.js';

/**
 * List prices in USD per million tokens, by model-name prefix, as Anthropic and OpenAI
 * publish them for standard (non-batch, uncached, short-context) use. A prefix matches a
 * name equal to it or followed by `-` (a dated snapshot or variant): `gpt-4o` covers
 * `gpt-4o-2024-08-06`, not `gpt-4o1`; the longest matching prefix wins. Prices change: a
 * `price:` in `models:` overrides any of these. An unknown later variant of a family falls
 * back to the family's older, dearer price, so budgets err on the safe side.
 */
export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  // Anthropic
  'claude-opus-4-6': usd(5, 25),
  'claude-opus-4-5': usd(5, 25),
  'claude-opus-4-1': usd(15, 75),
  'claude-opus-4': usd(15, 75),
  'claude-sonnet': usd(3, 15),
  'claude-haiku-4-5': usd(1, 5),
  'claude-3-7-sonnet': usd(3, 15),
  'claude-3-5-sonnet': usd(3, 15),
  'claude-3-5-haiku': usd(0.8, 4),
  'claude-3-opus': usd(15, 75),
  'claude-3-haiku': usd(0.25, 1.25),
  // OpenAI
  'gpt-5.2': usd(1.75, 14),
  'gpt-5.1': usd(1.25, 10),
  'gpt-5': usd(1.25, 10),
  'gpt-5-mini': usd(0.25, 2),
  'gpt-5-nano': usd(0.05, 0.4),
  'gpt-5-pro': usd(15, 120),
  'gpt-4.1': usd(2, 8),
  'gpt-4.1-mini': usd(0.4, 1.6),
  'gpt-4.1-nano': usd(0.1, 0.4),
  'gpt-4o': usd(2.5, 10),
  'gpt-4o-mini': usd(0.15, 0.6),
  o1: usd(15, 60),
  'o1-mini': usd(1.1, 4.4),
  'o1-pro': usd(150, 600),
  o3: usd(2, 8),
  'o3-mini': usd(1.1, 4.4),
  'o3-pro': usd(20, 80),
  'o4-mini': usd(1.1, 4.4),
};

// Longest first, so the first match is the most specific.
const PREFIXES = Object.keys(PRICE_TABLE).sort((a, b) => b.length - a.length);

/** What a model costs: the project's own price, else the table's; undefined when neither knows. */
export function priceOf(ref: ModelRef): ModelPrice | undefined {
  if (ref.price) return ref.price;
  const name = ref.model.toLowerCase();
  const prefix = PREFIXES.find((p) => name === p || name.startsWith(`${p}-`));
  return prefix === undefined ? undefined : PRICE_TABLE[prefix];
}

/** USD for the tokens used at a price. */
export function costOf(usage: { input_tokens: number; output_tokens: number }, price: ModelPrice): number {
  return (usage.input_tokens * price.inputPerMTok + usage.output_tokens * price.outputPerMTok) / 1_000_000;
}

function usd(inputPerMTok: number, outputPerMTok: number): ModelPrice {
  return { inputPerMTok, outputPerMTok };
}
