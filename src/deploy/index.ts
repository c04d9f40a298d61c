export { environmentNames, environmentVariablesOf, referencedVariables, type EnvName } from './env-names.js';
export { outputFiles, writeOutput, WRITTEN_MARK, type OutputFile } from './output.js';
export { deployPlan, dnsLabel, isPlatform, PLATFORMS, secretName, DEPLOYED_ENGINE_URL, type DeployPlan, type Platform, type WorkerPool } from './plan.js';
export { kubernetesManifests, type Manifest } from './kubernetes.js';
export { composeFile } from './compose.js';

