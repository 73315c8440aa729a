/** Who is making a change: a person (through a session or one of their keys) or the system. */
export interface Actor {
  userId: number | null;
  isSystem: boolean;
  /** Set when the change came through a personal API key. */
  apiKeyId?: string;
}

export const systemActor: Actor = { userId: null, isSystem: true };

export function userActor(userId: number, apiKeyId?: string): Actor {
  return apiKeyId ? { userId, isSystem: false, apiKeyId } : { userId, isSystem: false };
}
