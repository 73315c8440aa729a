export const SCHEMA_FILE: string;
export function generateDbTypes(migrations: ReadonlyArray<{ name: string; sql: string }>): Promise<string>;
