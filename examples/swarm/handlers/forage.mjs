const PATCHES = ['a', 'b', 'c', 'd', 'e', 'f'];

export function claim({ board = {}, member }) {
  if (Object.values(board).includes(member)) return { writes: {} }; // already has a patch
  // Members race for the same patch; the round keeps the last claim, the others try again.
  const free = PATCHES.find((p) => board[p] === undefined);
  return free === undefined ? { writes: {} } : { writes: { [free]: member } };
}
