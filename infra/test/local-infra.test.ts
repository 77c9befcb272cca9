import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  ensureInfra,
  freePort,
  startLocalMysql,
  startLocalNats,
  tcpProbe,
  waitForTcp,
  type LocalServer,
} from '../local-infra';

// Captured at load time, before the tests below unset them.
const fromGlobalSetup = { mysqlUrl: process.env.MYSQL_URL, natsUrl: process.env.NATS_URL };

describe('vitest global setup', () => {
  it('hands working MYSQL_URL and NATS_URL to the forked workers', async () => {
    expect(fromGlobalSetup.mysqlUrl).toMatch(/^mysql:\/\//);
    expect(fromGlobalSetup.natsUrl).toMatch(/^nats:\/\//);
    const conn = await mysql.createConnection(fromGlobalSetup.mysqlUrl!);
    try {
      const [rows] = await conn.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await conn.end();
    }
    const nc = await connect({ servers: fromGlobalSetup.natsUrl! });
    await nc.close();
  });
});

describe('helpers', () => {
  it('freePort returns a port nobody listens on, waitForTcp times out on it', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await tcpProbe('127.0.0.1', port, 300)).toBe(false);
    await expect(waitForTcp('127.0.0.1', port, 300)).rejects.toThrow(/Timed out/);
  });

  it('ensureInfra uses MYSQL_URL / NATS_URL as given and starts nothing', async () => {
    const saved = { MYSQL_URL: process.env.MYSQL_URL, NATS_URL: process.env.NATS_URL };
    process.env.MYSQL_URL = 'mysql://u:p@db.example:3306';
    process.env.NATS_URL = 'nats://nats.example:4222';
    try {
      const infra = await ensureInfra({ dataDir: path.join(os.tmpdir(), 'unused') });
      expect(infra.mysqlUrl).toBe('mysql://u:p@db.example:3306');
      expect(infra.natsUrl).toBe('nats://nats.example:4222');
      await infra.stop();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('starting own servers', () => {
  let dataDir: string;
  const saved = { MYSQL_URL: process.env.MYSQL_URL, NATS_URL: process.env.NATS_URL };
  const started: LocalServer[] = [];

  beforeAll(() => {
    delete process.env.MYSQL_URL;
    delete process.env.NATS_URL;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mg-infra-'));
  });

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
    Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts nats-server with JetStream on a free port and stops it', async () => {
    const port = await freePort();
    const nats = await startLocalNats({ dataDir, port });
    started.push(nats);
    expect(nats.child).not.toBeNull();
    expect(nats.url).toBe(`nats://127.0.0.1:${port}`);

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
    } finally {
      await nc.close();
    }

    await nats.stop();
    expect(await tcpProbe('127.0.0.1', port, 300)).toBe(false);
  });

  it('initialises and starts MariaDB/MySQL on a free port and stops it', async () => {
    const port = await freePort();
    const db = await startLocalMysql({ dataDir, port });
    started.push(db);
    expect(db.child).not.toBeNull();
    expect(db.url).toBe(`mysql://root@127.0.0.1:${port}`);

    const conn = await mysql.createConnection(db.url);
    try {
      const [rows] = await conn.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await conn.end();
    }

    await db.stop();
    expect(await tcpProbe('127.0.0.1', port, 300)).toBe(false);
  });
});
