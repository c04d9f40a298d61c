import { createHash } from 'node:crypto';

export function checksum({ data }) {
  return createHash('sha256').update(data).digest('hex').slice(0, 12);
}
