import { webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { forbidden, unauthenticated } from './errors';

/** Back-office and machine roles; ADMIN may do everything. */
export const Role = {
  ADMIN: 'ADMIN',
  OPERATOR: 'OPERATOR',
  ANALYST: 'ANALYST',
  SUPPORT: 'SUPPORT',
  FINANCE: 'FINANCE',
  INTEGRATION: 'INTEGRATION',
  MEMBER: 'MEMBER',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ALL_ROLES = Object.values(Role) as Role[];

/** Who is asking: a staff user, a member or an integration client. */
export interface Principal {
  sub: string;
  kind: 'staff' | 'member' | 'client';
  roles: Role[];
  scopes: string[];
  name?: string;
}

/** Per-request context every resolver and service receives first. */
export interface RequestContext {
  principal: Principal | null;
  requestId: string;
  traceparent?: string;
  /** The caller's address as the gateway saw it (for throttling OTP and logins per IP). */
  clientIp?: string;
}

export interface TokenSettings {
  secret: string;
  issuer: string;
}

// One imported key per secret: handing jose raw bytes makes it import the key again (WebCrypto) on
// every sign and verify, a few percent of each subgraph's CPU in profiles.
const keys = new Map<string, Promise<webcrypto.CryptoKey>>();
const key = (secret: string): Promise<webcrypto.CryptoKey> => {
  let k = keys.get(secret);
  if (!k) {
    k = webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, k);
  }
  return k;
};

/** Issues a signed HS256 JWT for `principal`, valid for `ttlSeconds`. */
export async function signToken(
  settings: TokenSettings,
  principal: Principal,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttlSeconds;
  const token = await new SignJWT({ kind: principal.kind, roles: principal.roles, scopes: principal.scopes, name: principal.name })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(principal.sub)
    .setIssuer(settings.issuer)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(await key(settings.secret));
  return { token, expiresAt: new Date(exp * 1000) };
}

/** Verifies a JWT and returns its principal; any defect is UNAUTHENTICATED. */
export async function verifyToken(settings: TokenSettings, token: string): Promise<Principal> {
  try {
    const { payload } = await jwtVerify(token, await key(settings.secret), { issuer: settings.issuer, algorithms: ['HS256'] });
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is Role => ALL_ROLES.includes(r as Role)) : [];
    const kind = payload.kind === 'staff' || payload.kind === 'member' || payload.kind === 'client' ? payload.kind : null;
    if (!payload.sub || !kind) throw unauthenticated('Malformed token');
    return {
      sub: payload.sub,
      kind,
      roles,
      scopes: Array.isArray(payload.scopes) ? payload.scopes.map(String) : [],
      name: typeof payload.name === 'string' ? payload.name : undefined,
    };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthenticated('Token expired');
    throw unauthenticated('Invalid token');
  }
}

/** Reads `Authorization: Bearer <jwt>`: no header means anonymous, a bad token is refused. */
export async function principalFromHeader(settings: TokenSettings, header: string | undefined | null): Promise<Principal | null> {
  if (!header) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) throw unauthenticated('Authorization header must be "Bearer <token>"');
  return verifyToken(settings, match[1]);
}

/** The caller, or UNAUTHENTICATED. */
export function requireAuth(ctx: RequestContext): Principal {
  if (!ctx.principal) throw unauthenticated();
  return ctx.principal;
}

export interface Permission {
  roles?: Role[];
  /** Scopes an INTEGRATION client may hold instead of a role. */
  scopes?: string[];
}

/** True when the principal holds one of the roles (ADMIN always does) or, as a client, one of the scopes. */
export function isAllowed(principal: Principal, permission: Permission): boolean {
  if (principal.roles.includes(Role.ADMIN)) return true;
  if (permission.roles?.some((r) => principal.roles.includes(r))) return true;
  if (principal.kind === 'client' && permission.scopes?.some((s) => principal.scopes.includes(s))) return true;
  return false;
}

/** The caller if allowed by role or scope, else UNAUTHENTICATED / FORBIDDEN. */
export function requirePermission(ctx: RequestContext, permission: Permission): Principal {
  const principal = requireAuth(ctx);
  if (!isAllowed(principal, permission)) throw forbidden();
  return principal;
}

/** Object-level check: a member may reach only their own data, staff need one of `staff` roles. */
export function requireMemberAccess(ctx: RequestContext, memberId: string, staff: Permission): Principal {
  const principal = requireAuth(ctx);
  if (principal.kind === 'member') {
    if (principal.sub !== memberId) throw forbidden();
    return principal;
  }
  if (!isAllowed(principal, staff)) throw forbidden();
  return principal;
}

/** Staff roles that may read member-facing data in the back office. */
export const STAFF_READ: Permission = {
  roles: [Role.OPERATOR, Role.ANALYST, Role.SUPPORT, Role.FINANCE],
  scopes: ['members:read'],
};

/** Only ADMIN: no other role or scope is enough. */
export const ADMIN_ONLY: Permission = { roles: [Role.ADMIN] };
