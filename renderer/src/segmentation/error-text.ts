// One wording for errors shown in the segment editor.
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
