/** User ids compare case-insensitively, as the control plane compares them (policy's sameUser). */
export function sameUserId(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
