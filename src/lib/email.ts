/** The case-insensitive key of an email address: accounts, invitations and mail throttles use it. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
