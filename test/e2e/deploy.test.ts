import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { breathe, orch as orchSync } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

/** The built bin, run to its end; the test worker's event loop turns first (see breathe). */
async function orch(...args: Parameters<typeof orchSync>): Promise<ReturnType<typeof orchSync>> {
  await breathe();
  return orchSync(...args);
}

const SECRETS = { API_TOKEN: 'tok-3f9a1c-never-written', ANTHROPIC_API_KEY: 'sk-ant-77e2-never-written', HOOK_SECRET: 'hook-5151-never-written' };

const GANTZ = `name: Shop Ops
tools:
  fetch_orders:
    description: fetch orders
    http:
      method: GET
      url: https://api.example.com/orders
      headers:
        Authorization: "Bearer \${API_TOKEN}"
  build:
    description: build
    script:
      command: ./scripts/build.sh
    environment:
      LOG_LEVEL: "\${LOG_LEVEL:-info}"
      LITERAL: "$\${NOT_A_VARIABLE}"
  # notify: "\${COMMENTED_OUT}"
`;

const TEAM = `team:
  name: shop
agents:
  - role: planner
    model: claude-sonnet-4-5
    count: 1
  - role: builder
    tools: [build]
    count: 2
  - role: fetcher
    tools: [fetch_orders]
    replicas: 3
`;

const K8S_MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
};

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

function manifests(dir: string): Obj[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as Obj));
}

function everyFile(dir: string): string {
  return readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function shop() {
  const project = tempProject({
    'gantz.yaml': GANTZ,
    'agent-team.yaml': TEAM,
    'scripts/build.sh': '#!/bin/sh\necho built\n',
    'data/logo.bin': Buffer.from([0xff, 0xfe, 0x00, 0x80]),
    '.env': `API_TOKEN=${SECRETS.API_TOKEN}\n`,
    'config/credentials.json': `{"token": "${SECRETS.HOOK_SECRET}"}\n`,
    'tls/server.pem': '-----BEGIN PRIVATE KEY-----\n',
    'handlers/count_tokens.py': 'def count(text):\n    return len(text.split())\n',
    'deploy/notes.md': 'our own deploy notes\n',
    '.git/config': '[core]\n',
  });
  chmodSync(path.join(project.dir, 'scripts/build.sh'), 0o755);
  cleanup = project.cleanup;
  return project;
}

describe('orch deploy --platform kubernetes', () => {
  it('writes manifests that validate, with replicas from the pools, variables by name and the project files', async () => {
    const { dir } = shop();
    expect((await orch(['-C', dir, 'scale', '--agent-type', 'builder', '--count', '5'], { env: SECRETS })).code).toBe(0);
    const result = await orch(['deploy', '--platform', 'kubernetes'], { env: SECRETS, cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = path.join(dir, 'deploy', 'kubernetes');
    expect(readdirSync(out).sort()).toEqual(['Dockerfile', 'project-files.yaml', 'redis.yaml', 'workers.yaml']);

    const objects = manifests(out);
    for (const o of objects) {
      const Model = K8S_MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind}`).toBeDefined();
      expect(() => new (Model as new (data: Obj) => { validate(): void })(o).validate()).not.toThrow();
    }
    const deployments = objects.filter((o) => o.kind === 'Deployment') as unknown as {
      metadata: { name: string };
      spec: { replicas: number; template: { spec: { containers: { args: string[]; image: string; env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string; optional?: boolean } } }[] }[] } } };
    }[];
    const workers = new Map(deployments.filter((d) => d.metadata.name !== 'redis').map((d) => [d.spec.template.spec.containers[0]?.args.at(-1), d]));
    // `orch scale` set builder's pool to 5; the others keep their declared sizes.
    expect([...workers].map(([type, d]) => [type, d.spec.replicas])).toEqual([['planner', 1], ['builder', 5], ['fetcher', 3]]);
    const container = workers.get('builder')?.spec.template.spec.containers[0];
    expect(container?.args).toEqual(['worker', '--agent-type', 'builder']);
    expect(container?.image).toBe('orch:0.1.0');
    const env = new Map(container?.env.map((e) => [e.name, e]));
    expect(env.get('ORCH_ENGINE')?.value).toBe('redis://redis:6379/0');
    expect(env.get('API_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'shop-ops-env', key: 'API_TOKEN' });
    expect(env.get('ANTHROPIC_API_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'shop-ops-env', key: 'ANTHROPIC_API_KEY' });
    expect(env.get('LOG_LEVEL')?.valueFrom?.secretKeyRef).toEqual({ name: 'shop-ops-env', key: 'LOG_LEVEL', optional: true });
    expect(env.has('NOT_A_VARIABLE')).toBe(false);
    expect(env.has('COMMENTED_OUT')).toBe(false);

    const redis = deployments.find((d) => d.metadata.name === 'redis')?.spec.template.spec.containers[0] as unknown as { command: string[] };
    expect(redis.command.join(' ')).toContain('--appendonly yes');
    expect(redis.command.join(' ')).toContain('--maxmemory-policy noeviction');

    const files = objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string>; binaryData: Record<string, string> };
    // Hidden files and those that may hold secrets stay home; a deploy/ folder of the user's own is shipped.
    expect(Object.keys(files.data).sort()).toEqual(['agent-team.yaml', 'deploy_notes.md', 'gantz.yaml', 'handlers_count_tokens.py', 'scripts_build.sh']);
    expect(result.stdout).toContain('Left out, as they may hold secrets: .env, config/credentials.json, tls/server.pem');
    expect(Buffer.from(files.binaryData['data_logo.bin'] ?? '', 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    const volume = (workers.get('builder') as unknown as { spec: { template: { spec: { volumes: { configMap?: { items: { path: string; mode: number }[] } }[] } } } }).spec.template.spec.volumes[0];
    expect(volume?.configMap?.items.find((i) => i.path === 'scripts/build.sh')?.mode).toBe(0o755);

    // No value of the environment reaches any file written, and no .env file is shipped.
    const written = everyFile(out);
    for (const value of Object.values(SECRETS)) expect(written).not.toContain(value);
    expect(written).not.toContain('.env');

    expect(readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:20-slim$/m);
    expect(result.stdout).toContain('kubectl apply -f deploy/kubernetes');
    expect(result.stdout).toContain('docker build -t orch:0.1.0 deploy/kubernetes');
    expect(result.stdout).toContain('kubectl create secret generic shop-ops-env');
    expect(result.stdout).toMatch(/builder\s+5 replicas/);
  });

  it('deploys without the variables set: only their names are needed', async () => {
    const { dir } = shop();
    const env: NodeJS.ProcessEnv = { API_TOKEN: '', ANTHROPIC_API_KEY: '' };
    const result = await orch(['-C', dir, 'deploy', '--platform', 'kubernetes', '--out', path.join(dir, 'k8s'), '--image', 'registry.example.com/orch:1', '--json'], { env });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { image: string; env: { name: string; required: boolean }[]; commands: string[] };
    expect(doc.image).toBe('registry.example.com/orch:1');
    expect(doc.env).toEqual([
      { name: 'ANTHROPIC_API_KEY', required: true },
      { name: 'API_TOKEN', required: true },
      { name: 'LOG_LEVEL', required: false },
    ]);
    expect(readFileSync(path.join(dir, 'k8s', 'workers.yaml'), 'utf8')).toContain('image: registry.example.com/orch:1');
  });

  it('replaces the files it wrote, and refuses ones it did not', async () => {
    const { dir } = shop();
    const out = path.join(dir, 'deploy', 'kubernetes');
    expect((await orch(['-C', dir, 'deploy', '--platform', 'compose'])).code).toBe(0);
    expect((await orch(['-C', dir, 'deploy', '--platform', 'kubernetes'])).code).toBe(0);
    const again = await orch(['-C', dir, 'deploy', '--platform', 'kubernetes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('workers.yaml  (replaced the one orch deploy wrote before)');
    // What orch deploy wrote is not a project file: neither output folder is in the ConfigMap.
    const shipped = readFileSync(path.join(out, 'project-files.yaml'), 'utf8');
    expect(shipped).toContain('deploy_notes.md');
    expect(shipped).not.toContain('deploy_compose');
    expect(shipped).not.toContain('deploy_kubernetes');

    writeFileSync(path.join(out, 'Dockerfile'), 'FROM my-own-image\n');
    const before = readFileSync(path.join(out, 'workers.yaml'), 'utf8');
    expect((await orch(['-C', dir, 'scale', '--agent-type', 'fetcher', '--count', '9'], { env: SECRETS })).code).toBe(0);
    const refused = await orch(['-C', dir, 'deploy', '--platform', 'kubernetes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ORCH_DEPLOY_EXISTS');
    expect(refused.stderr).toContain('--force');
    // Nothing was written: the refusal comes before any file.
    expect(readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toBe('FROM my-own-image\n');
    expect(readFileSync(path.join(out, 'workers.yaml'), 'utf8')).toBe(before);

    expect((await orch(['-C', dir, 'deploy', '--platform', 'kubernetes', '--force'])).code).toBe(0);
    expect(readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toMatch(/^# Written by `orch deploy`/);
    expect(readFileSync(path.join(out, 'workers.yaml'), 'utf8')).toContain('replicas: 9');
  });

  it('refuses an unknown platform with the choices, exit 2', async () => {
    const { dir } = shop();
    const result = await orch(['-C', dir, 'deploy', '--platform', 'kubernets']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ORCH_USAGE');
    expect(result.stderr).toContain('did you mean `--platform kubernetes`?');
    expect(result.stderr).toContain('kubernetes, compose');
    expect((await orch(['-C', dir, 'deploy'])).code).toBe(2);
    expect(existsSync(path.join(dir, 'deploy', 'kubernetes'))).toBe(false);
  });
});

describe('orch deploy --platform compose', () => {
  it('writes a Compose file docker-compose accepts, with replicas from the pools and variables by name', async () => {
    const { dir } = shop();
    expect((await orch(['-C', dir, 'scale', '--agent-type', 'fetcher', '--count', '6'], { env: SECRETS })).code).toBe(0);
    const result = await orch(['deploy', '--platform', 'compose'], { env: SECRETS, cwd: dir });
    expect(result.code).toBe(0);
    const out = path.join(dir, 'deploy', 'compose');
    const file = path.join(out, 'compose.yaml');
    const check = spawnSync('docker-compose', ['-f', file, 'config', '-q'], { encoding: 'utf8', env: { ...process.env, ...SECRETS } });
    expect(check.error).toBeUndefined();
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);

    const compose = parse(readFileSync(file, 'utf8')) as {
      services: Record<string, { command?: string[]; deploy?: { replicas: number }; volumes?: string[]; environment?: Record<string, string | null> }>;
    };
    const workers = Object.values(compose.services).filter((s) => s.command?.[0] === 'worker');
    expect(workers.map((s) => [s.command?.at(-1), s.deploy?.replicas])).toEqual([['planner', 1], ['builder', 2], ['fetcher', 6]]);
    const fetcher = workers[2];
    expect(fetcher?.volumes).toEqual(['../..:/project:ro']);
    expect(fetcher?.environment).toEqual({
      ORCH_ENGINE: 'redis://redis:6379/0',
      ORCH_STATE_DIR: '/var/lib/orch',
      ANTHROPIC_API_KEY: null,
      API_TOKEN: null,
      LOG_LEVEL: null,
    });
    expect(compose.services.redis?.command?.join(' ')).toContain('--maxmemory-policy noeviction');

    const written = everyFile(out);
    for (const value of Object.values(SECRETS)) expect(written).not.toContain(value);
    expect(readdirSync(out).sort()).toEqual(['Dockerfile', 'compose.yaml']);
    expect(result.stdout).toContain('docker compose -f deploy/compose/compose.yaml up');
  });
});
