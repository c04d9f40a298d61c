export async function tally({ board, vote }) {
  const counts = { ...(board.counts ?? {}) };
  counts[vote] = (counts[vote] ?? 0) + 1;
  // Counting takes a moment, so tallies overlap and some commits find the board moved on.
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { writes: { counts } };
}
