import { OrchError } from '../errors.js';
import {
  CONTAINER_STATE_DIR,
  DEPLOYED_ENGINE_URL,
  ENGINE_VARIABLE,
  PROJECT_MOUNT,
  REDIS_COMMAND,
  REDIS_IMAGE,
  STATE_DIR_VARIABLE,
  dnsLabel,
  secretName,
  workerArgs,
  type DeployPlan,
  type WorkerPool,
} from './plan.js';

/** A Kubernetes object as its YAML is written. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } } & Record<string, unknown>;

/** A manifest file: its name in the output folder and the objects it holds. */
export interface ManifestFile {
  file: string;
  objects: Manifest[];
}

function labels(plan: DeployPlan, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'app.kubernetes.io/part-of': plan.name, 'app.kubernetes.io/component': component, 'app.kubernetes.io/managed-by': 'orch', ...extra };
}

function redisLabels(plan: DeployPlan): Record<string, string> {
  return labels(plan, 'redis', { 'app.kubernetes.io/name': 'redis' });
}

/** Redis with its data on a volume: AOF persistence, no eviction, one replica that is replaced, never doubled. */
function redis(plan: DeployPlan): Manifest[] {
  const selector = { 'app.kubernetes.io/part-of': plan.name, 'app.kubernetes.io/name': 'redis' };
  return [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'redis-data', labels: redisLabels(plan) },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'redis', labels: redisLabels(plan) },
      spec: {
        replicas: 1,
        // Two Redis servers on one append-only file would corrupt it: the old one goes first.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: redisLabels(plan) },
          spec: {
            containers: [
              {
                name: 'redis',
                image: REDIS_IMAGE,
                command: REDIS_COMMAND,
                ports: [{ name: 'redis', containerPort: 6379 }],
                readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5 },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'redis-data' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'redis', labels: redisLabels(plan) },
      spec: { selector, ports: [{ name: 'redis', port: 6379, targetPort: 'redis' }] },
    },
  ];
}

/** ConfigMap keys allow letters, digits, `-`, `_` and `.` only: a path gets a key of its own. */
function configMapKeys(plan: DeployPlan): Map<string, string> {
  const keys = new Map<string, string>();
  const taken = new Set<string>();
  for (const file of plan.files) {
    const base = file.path.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 240) || 'file';
    let key = base;
    for (let n = 2; taken.has(key); n++) key = `${base}.${n}`;
    taken.add(key);
    keys.set(file.path, key);
  }
  return keys;
}

function filesName(plan: DeployPlan): string {
  return dnsLabel(`${plan.name}-files`);
}

/** What the API server takes in one ConfigMap, with room left for its metadata. */
const CONFIG_MAP_LIMIT = 1024 * 1024 - 16 * 1024;

/** The project's files, text as `data`, anything else as `binaryData`. */
function projectConfigMap(plan: DeployPlan, keys: ReadonlyMap<string, string>): Manifest {
  const size = plan.files.reduce((sum, f) => sum + f.content.length, 0);
  if (size > CONFIG_MAP_LIMIT) {
    const largest = [...plan.files].sort((a, b) => b.content.length - a.content.length).slice(0, 3);
    throw new OrchError('ORCH_DEPLOY_TOO_LARGE', `the project's files come to ${size} bytes; one ConfigMap holds at most ${CONFIG_MAP_LIMIT}`, {
      hint: `the largest: ${largest.map((f) => `${f.path} (${f.content.length} bytes)`).join(', ')}; move data the workers do not need out of the project folder, or deploy with --platform compose`,
    });
  }
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const file of plan.files) {
    const key = keys.get(file.path) ?? file.path;
    const text = file.content.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(file.content)) data[key] = text;
    else binaryData[key] = file.content.toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: filesName(plan), labels: labels(plan, 'project-files') },
    data,
    ...(Object.keys(binaryData).length > 0 && { binaryData }),
  };
}

/** A Deployment of `orch worker` processes for one agent type. */
function workerDeployment(plan: DeployPlan, pool: WorkerPool, keys: ReadonlyMap<string, string>): Manifest {
  // Selected by the pool's own name, which no other pool shares (two agent types' labels may).
  const selector = { 'app.kubernetes.io/part-of': plan.name, 'app.kubernetes.io/name': pool.name };
  const workerLabels = labels(plan, 'worker', { 'app.kubernetes.io/name': pool.name, 'orch.dev/agent-type': dnsLabel(pool.agentType) });
  const env = [
    { name: ENGINE_VARIABLE, value: DEPLOYED_ENGINE_URL },
    { name: STATE_DIR_VARIABLE, value: CONTAINER_STATE_DIR },
    // Values come from the Secret at start: none is written here.
    ...plan.env.map((v) => ({ name: v.name, valueFrom: { secretKeyRef: { name: secretName(plan), key: v.name, ...(!v.required && { optional: true }) } } })),
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: pool.name, labels: workerLabels },
    spec: {
      replicas: pool.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: workerLabels },
        spec: {
          // `orch worker` drains on SIGTERM: it finishes its running jobs before it exits.
          terminationGracePeriodSeconds: 300,
          containers: [
            {
              name: 'worker',
              image: plan.image,
              imagePullPolicy: 'IfNotPresent',
              args: workerArgs(plan, pool),
              workingDir: PROJECT_MOUNT,
              env,
              volumeMounts: [
                { name: 'project', mountPath: PROJECT_MOUNT, readOnly: true },
                { name: 'state', mountPath: CONTAINER_STATE_DIR },
              ],
            },
          ],
          volumes: [
            {
              name: 'project',
              configMap: {
                name: filesName(plan),
                items: plan.files.map((f) => ({ key: keys.get(f.path) ?? f.path, path: f.path, mode: f.executable ? 0o755 : 0o644 })),
              },
            },
            { name: 'state', emptyDir: {} },
          ],
        },
      },
    },
  };
}

/**
 * The Kubernetes manifests of a project: Redis (its volume, Deployment and Service), the
 * project's files as a ConfigMap, and one worker Deployment per agent type. The Secret is
 * only referred to: its values are the user's to create.
 */
export function kubernetesManifests(plan: DeployPlan): ManifestFile[] {
  const keys = configMapKeys(plan);
  return [
    { file: 'redis.yaml', objects: redis(plan) },
    { file: 'project-files.yaml', objects: [projectConfigMap(plan, keys)] },
    { file: 'workers.yaml', objects: plan.workers.map((pool) => workerDeployment(plan, pool, keys)) },
  ];
}
