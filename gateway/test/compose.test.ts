import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SUPERGRAPH_FILE, composeSupergraph, repoRoot, runCli } from '../src/compose';

const MEMBER = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { member(id: ID!): Member }
type Member @key(fields: "id") { id: ID! name: String! }
`;
const POINTS = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Member @key(fields: "id") { id: ID! points: Int! }
`;

function tempRepo(schemas: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mg-compose-'));
  mkdirSync(join(root, 'gateway'));
  for (const [name, sdl] of Object.entries(schemas)) {
    mkdirSync(join(root, 'services', name), { recursive: true });
    writeFileSync(join(root, 'services', name, 'schema.graphql'), sdl);
  }
  return root;
}

describe('supergraph composition', () => {
  const temps: string[] = [];
  afterEach(() => {
    for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('composes the five service schemas and the committed supergraph is up to date', () => {
    const outcome = composeSupergraph(repoRoot());
    expect(outcome.errors).toEqual([]);
    expect(outcome.subgraphs.map((s) => s.name)).toEqual(['analytics', 'marketing', 'member', 'points', 'wallet']);
    const committed = readFileSync(join(repoRoot(), SUPERGRAPH_FILE), 'utf8').replace(/\r\n/g, '\n');
    // If this fails: run `npm run compose` and commit gateway/supergraph.graphql.
    expect(committed).toBe(outcome.supergraphSdl);
    expect(committed).toContain('MEMBER @join__graph(name: "member", url: "http://member:4001/graphql")');
    expect(committed).toContain('ANALYTICS @join__graph(name: "analytics", url: "http://analytics:4005/graphql")');
  });

  it('reports composition errors instead of writing', () => {
    const root = tempRepo({
      member: MEMBER,
      points: POINTS.replace('points: Int!', 'points: Int!\n  name: Int!'), // Member.name: String! vs Int!
    });
    temps.push(root);
    const outcome = composeSupergraph(root);
    expect(outcome.supergraphSdl).toBeUndefined();
    expect(outcome.errors.join('\n')).toMatch(/Member\.name/);

    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(runCli([], root)).toBe(1);
    expect(error.mock.calls.flat().join('\n')).toMatch(/composition FAILED/);
  });

  it('--check fails on a stale file and passes once written', () => {
    const root = tempRepo({ member: MEMBER, points: POINTS });
    temps.push(root);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);

    expect(runCli(['--check'], root)).toBe(1); // no file yet
    expect(runCli([], root)).toBe(0);
    expect(runCli(['--check'], root)).toBe(0);
    writeFileSync(join(root, SUPERGRAPH_FILE), `${readFileSync(join(root, SUPERGRAPH_FILE), 'utf8')}\n# edited\n`);
    expect(runCli(['--check'], root)).toBe(1);
    expect(error.mock.calls.flat().join('\n')).toMatch(/run `npm run compose`/);
  });
});
