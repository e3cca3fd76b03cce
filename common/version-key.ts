/**
 * The key of one secret version, `${secretId}@${version}`: in the manager's sent-assignments
 * bookkeeping, the agent's state, the native engine's blob ids, and the seal's associated data.
 */
export const versionKey = (secretId: string, version: number): string => `${secretId}@${version}`;
