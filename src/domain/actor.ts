/** Who is making a change: a person (through a session or one of their keys) or the system. */
export interface Actor {
  userId: number | null;
  isSystem: boolean;
  /** Set when the change came through a personal API key. */
  apiKeyId?: string;
  /** Added to the context of every entry this actor writes (a batch: the access matrix's batch id and file hash). */
  batch?: Readonly<Record<string, unknown>>;
  /** The HTTP request that made the change (also in the X-Request-Id response header and the logs). */
  requestId?: string;
}

export const systemActor: Actor = { userId: null, isSystem: true };

export function userActor(userId: number, apiKeyId?: string): Actor {
  return apiKeyId ? { userId, isSystem: false, apiKeyId } : { userId, isSystem: false };
}
