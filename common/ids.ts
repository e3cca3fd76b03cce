// 128 random bits in base 36, left-padded to 25 characters (Swarm's identifier shape). The global
// Web Crypto, so that the CLI, which only checks ids (ID_PATTERN), does not load node:crypto.
export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return BigInt('0x' + Buffer.from(bytes).toString('hex')).toString(36).padStart(25, '0');
}

export const ID_PATTERN = /^[0-9a-z]{25}$/;
