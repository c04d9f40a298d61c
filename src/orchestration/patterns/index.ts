import type { Coordination } from '../../config/model.js';
import { auction } from './auction.js';
import { blackboard } from './blackboard.js';
import { centralized } from './centralized.js';
import { fanOut } from './fan-out.js';
import { hierarchical } from './hierarchical.js';
import { masterWorker } from './master-worker.js';
import type { Pattern } from './pattern.js';
import { peerToPeer } from './peer-to-peer.js';
import { pipeline } from './pipeline.js';
import { swarm } from './swarm.js';

export function patternFor(coordination: Coordination): Pattern {
  switch (coordination) {
    case 'centralized':
      return centralized;
    case 'pipeline':
      return pipeline;
    case 'fan-out':
      return fanOut;
    case 'master-worker':
      return masterWorker;
    case 'hierarchical':
      return hierarchical;
    case 'blackboard':
      return blackboard;
    case 'auction':
      return auction;
    case 'peer-to-peer':
      return peerToPeer;
    case 'swarm':
      return swarm;
    default: {
      const never: never = coordination;
      throw new Error(`unknown coordination ${String(never)}`);
    }
  }
}
