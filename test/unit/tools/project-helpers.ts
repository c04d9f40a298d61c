import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParamDef, Project, ToolDef, ToolHandler } from '../../../src/config/model.js';
import { inputSchema } from '../../../src/config/tools.js';

/** The fixture project with handler modules. */
export const fixtureDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tools/project');

type ParamSpec = Partial<ParamDef> & { type: ParamDef['type'] };

/** A tool definition as the config loader would produce it. */
export function tool(name: string, handler: ToolHandler, params: Record<string, ParamSpec> = {}): ToolDef {
  const list: ParamDef[] = Object.entries(params).map(([pname, p]) => ({
    name: pname,
    type: p.type,
    required: p.required ?? false,
    description: p.description,
    default: p.default,
    schema: { type: p.type, ...(p.default === undefined ? {} : { default: p.default }), ...p.schema },
  }));
  return {
    name,
    description: `${name} tool`,
    params: list,
    inputSchema: inputSchema(list),
    handler,
    environment: {},
    dialect: 'map',
    origin: { file: path.join(fixtureDir, 'gantz.yaml'), path: ['tools', name] },
  };
}

/** A project holding just these tools, rooted at `dir`. */
export function project(tools: ToolDef[], dir = fixtureDir): Project {
  return {
    dir,
    files: { gantz: path.join(dir, 'gantz.yaml') },
    tools: new Map(tools.map((t) => [t.name, t])),
    servers: new Map(),
    agents: new Map(),
    workflows: new Map(),
  };
}

/** The handler for `handlers/<module>.<ext>` of the fixture project. */
export function moduleHandler(module: string, fn: string, ext = '.ts'): ToolHandler {
  return { kind: 'module', module, fn, file: path.join(fixtureDir, 'handlers', module + ext) };
}
