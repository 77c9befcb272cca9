#!/usr/bin/env node
// Entry point for `npm start` and `npm test`. Plain Node ESM with no dependencies: it runs before
// `npm install` has ever run. Installs dependencies when missing or stale, then runs:
//   start -> node_modules/.bin/tsx infra/start.ts [args...]
//   test  -> node_modules/.bin/vitest run [args...]
// Signals are forwarded to the child; the exit code is the child's.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);

const commands = {
  start: () => [bin('tsx'), [path.join('infra', 'start.ts'), ...args]],
  test: () => [bin('vitest'), ['run', ...args]],
};

if (!command || !Object.hasOwn(commands, command)) {
  console.error(`usage: node infra/bootstrap.mjs ${Object.keys(commands).join('|')} [args...]`);
  process.exit(2);
}

function bin(name) {
  return path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function needsInstall() {
  if (!fs.existsSync(path.join(root, 'node_modules'))) return 'node_modules is missing';
  const lock = mtime(path.join(root, 'package-lock.json'));
  const installed = mtime(path.join(root, 'node_modules', '.package-lock.json'));
  if (installed === undefined) return 'node_modules/.package-lock.json is missing';
  if (lock !== undefined && installed < lock) return 'package-lock.json is newer than node_modules';
  return undefined;
}

const reason = needsInstall();
if (reason) {
  const hasLock = fs.existsSync(path.join(root, 'package-lock.json'));
  const npmArgs = hasLock ? ['ci'] : ['install'];
  console.error(`[bootstrap] ${reason}: running npm ${npmArgs.join(' ')}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, npmArgs, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`[bootstrap] could not run npm: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`[bootstrap] npm ${npmArgs.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

const [file, childArgs] = commands[command]();
if (!fs.existsSync(file)) {
  console.error(`[bootstrap] ${file} not found after installing dependencies`);
  process.exit(1);
}

const child = spawn(file, childArgs, { cwd: root, stdio: 'inherit', env: process.env });

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const forward = (signal) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of signals) process.on(signal, forward);

child.on('error', (err) => {
  console.error(`[bootstrap] could not start ${file}: ${err.message}`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  for (const s of signals) process.off(s, forward);
  if (code !== null) process.exit(code);
  // Killed by a signal: exit the conventional way (128 + signal number).
  process.exit(128 + ((signal && os.constants.signals[signal]) || 1));
});
