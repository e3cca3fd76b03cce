import { randomBytes } from 'node:crypto';

// 128 random bits in base 36, left-padded to 25 characters (Swarm's identifier shape).
export function newId(): string {
  return BigInt('0x' + randomBytes(16).toString('hex')).toString(36).padStart(25, '0');
}

export const ID_PATTERN = /^[0-9a-z]{25}$/;
