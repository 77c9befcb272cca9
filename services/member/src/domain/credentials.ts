/** Roles a staff user may hold: every platform role except MEMBER (member tokens only). */
export const STAFF_ROLES = ['ADMIN', 'OPERATOR', 'ANALYST', 'SUPPORT', 'FINANCE', 'INTEGRATION'] as const;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

export type Problem = { field: string; message: string } | null;

export function checkUsername(username: string): Problem {
  return /^[a-z0-9._-]{3,64}$/.test(username) ? null : { field: 'username', message: 'username must be 3-64 lower-case letters, digits, ".", "_" or "-"' };
}

export function checkPassword(password: string): Problem {
  if (password.length < MIN_PASSWORD_LENGTH) return { field: 'password', message: `password must have at least ${MIN_PASSWORD_LENGTH} characters` };
  if (password.length > MAX_PASSWORD_LENGTH) return { field: 'password', message: `password must have at most ${MAX_PASSWORD_LENGTH} characters` };
  return null;
}

export function checkStaffRoles(roles: readonly string[]): Problem {
  if (roles.length === 0) return { field: 'roles', message: 'give at least one role' };
  const bad = roles.find((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  return bad ? { field: 'roles', message: `role ${bad} cannot be given to staff` } : null;
}

/** Scopes look like `resource:action` (members:read, orders:write). */
export function checkScopes(scopes: readonly string[]): Problem {
  if (scopes.length < 1 || scopes.length > 32) return { field: 'scopes', message: 'give 1 to 32 scopes' };
  const bad = scopes.find((s) => !/^[a-z][a-z0-9_-]{0,31}:[a-z][a-z0-9_-]{0,31}$/.test(s));
  return bad ? { field: 'scopes', message: `scope "${bad}" must look like resource:action` } : null;
}

export function checkClientName(name: string): Problem {
  const n = name.trim();
  return n.length >= 1 && n.length <= 64 ? null : { field: 'name', message: 'name must be 1-64 characters' };
}
