import type { Coordination } from '../config/model.js';

/** Every coordination pattern, in the order the guide lists them. */
export const COORDINATIONS: readonly Coordination[] = ['centralized', 'pipeline', 'fan-out', 'master-worker', 'hierarchical', 'blackboard', 'auction', 'peer-to-peer', 'swarm'];
