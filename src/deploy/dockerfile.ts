import { CONTAINER_STATE_DIR, PROJECT_MOUNT, STATE_DIR_VARIABLE, type DeployPlan } from './plan.js';

/**
 * A Dockerfile for the image the workers run: Node 20 with orch installed, the project
 * mounted at its working directory (a ConfigMap, or a bind mount under Compose) rather
 * than copied in, so one image serves every version of the project's files.
 */
export function dockerfile(plan: DeployPlan): string {
  const python = plan.python
    ? ['# The project has Python handlers (handlers/*.py).', 'RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*', '']
    : [];
  return [
    'FROM node:20-slim',
    '',
    '# The orch to install: a version from the registry, or a tarball made with `npm pack`',
    '# (COPY it in first and give its path: --build-arg ORCH_PACKAGE=./orch-x.y.z.tgz).',
    `ARG ORCH_PACKAGE=orch@${plan.orchVersion}`,
    'RUN npm install --global --omit=dev "$ORCH_PACKAGE" && npm cache clean --force',
    '',
    ...python,
    '# Programs the project\'s script tools call (curl, git, ...) are installed here too.',
    '',
    `ENV ${STATE_DIR_VARIABLE}=${CONTAINER_STATE_DIR}`,
    `RUN mkdir -p ${CONTAINER_STATE_DIR} ${PROJECT_MOUNT} && chown node:node ${CONTAINER_STATE_DIR}`,
    'USER node',
    `WORKDIR ${PROJECT_MOUNT}`,
    'ENTRYPOINT ["orch"]',
    'CMD ["status"]',
    '',
  ].join('\n');
}
