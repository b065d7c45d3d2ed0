// How line and user names are compared for ownership (leases, "is this line held here"): the one
// place, so that a later normalisation (the hardening work's lineKey()) changes it everywhere.

/** The name a line is leased under (Redis key part, map key). */
export function lineKey(line: string): string {
  return line.trim();
}

/** The owner a lease records: UserUIds compare without regard to case, as the gateway does. */
export function userKey(user: string): string {
  return user.trim().toLowerCase();
}
