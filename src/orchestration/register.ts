import { registerLazyBuiltin } from '../tools/builtin.js';

// The orchestration seed's six tools, as the built-in `orchestration` handler namespace:
// imported by every entry point (the CLI, the programmatic API, child-process workers).
registerLazyBuiltin('orchestration', () => import('./index.js').then((m) => m.orchestrationHandlers));
