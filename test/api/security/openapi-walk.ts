/**
 * Reads /openapi.json and turns each operation into a request with valid values, so the
 * security suite covers every route the document lists, including routes added later.
 * Values come from the parameter and body schemas: examples and defaults first, then enums'
 * first value, RFC 3339 windows for date-times, YYYY-MM-DD for dates, the requesting
 * tenant's id for uuids, and for string parameters whose name says which dimension they
 * select (agentId, user_id, model, …) a value of that dimension.
 */

export type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  example?: unknown;
  examples?: unknown[];
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  pattern?: string;
  description?: string;
};

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
  example?: unknown;
}

export interface Operation {
  method: 'get' | 'post';
  path: string;
  tags: string[];
  secured: boolean;
  parameters: Parameter[];
  body?: Schema;
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, { tags?: string[]; security?: unknown[]; parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> }; responses: Operation['responses'] }>>;
  components?: { schemas?: Record<string, Schema> };
}

export function operations(doc: OpenApiDoc, prefixes: string[]): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!prefixes.some((p) => path === p || path.startsWith(p + '/'))) continue;
    for (const method of ['get', 'post'] as const) {
      const op = item[method];
      if (!op) continue;
      out.push({
        method,
        path,
        tags: op.tags ?? [],
        secured: (op.security ?? []).length > 0,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
        responses: op.responses,
      });
    }
  }
  return out;
}

export function resolve(doc: OpenApiDoc, s: Schema | undefined): Schema {
  let cur = s ?? {};
  for (let i = 0; cur.$ref && i < 20; i++) {
    const name = cur.$ref.replace('#/components/schemas/', '');
    cur = doc.components?.schemas?.[name] ?? {};
  }
  if (cur.allOf) return cur.allOf.reduce<Schema>((acc, part) => {
    const r = resolve(doc, part);
    return { ...acc, ...r, properties: { ...acc.properties, ...r.properties }, required: [...(acc.required ?? []), ...(r.required ?? [])] };
  }, {});
  return cur;
}

const types = (s: Schema) => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);
export const isStringSchema = (doc: OpenApiDoc, s: Schema | undefined): boolean => {
  const r = resolve(doc, s);
  const options = r.anyOf ?? r.oneOf;
  if (options) return options.some((o) => isStringSchema(doc, o));
  return types(r).includes('string') && !r.enum && r.const === undefined;
};

/** What a walk fills values with. */
export interface FillContext {
  /** The requesting tenant's id (for uuid parameters). */
  tenantId: string;
  fromMs: number;
  toMs: number;
  /** Dimension values by dimension name (for parameters that name a dimension). */
  dimensions: Record<string, string>;
}

const DIMENSION_HINTS: [RegExp, string][] = [
  [/agent/i, 'agent_id'],
  [/user/i, 'user_id'],
  [/^model$/i, 'model'],
  [/feature/i, 'feature'],
  [/project/i, 'project'],
  [/^env(ironment)?$/i, 'environment'],
  [/endpoint/i, 'endpoint'],
  [/run/i, 'run_id'],
  [/policy/i, 'policy_id'],
  [/api_?key/i, 'api_key_id'],
  [/provider/i, 'provider'],
  [/incident/i, 'incident_id'],
];

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A calendar date: format date, or a string whose pattern or description says YYYY-MM-DD. */
const isDate = (s: Schema) => s.format === 'date' || /YYYY-MM-DD/.test(s.description ?? '') || /^\^?\\d\{4\}-/.test(s.pattern ?? '');

/** A valid value for one schema, given the name it is filled under. */
export function valueFor(doc: OpenApiDoc, name: string, schema: Schema | undefined, ctx: FillContext, example?: unknown): unknown {
  const s = resolve(doc, schema);
  if (s.format === 'date-time' || isDate(s)) {
    const end = /^(to|end|until)$/i.test(name);
    const ms = end ? ctx.toMs : ctx.fromMs;
    return s.format === 'date-time' ? new Date(ms).toISOString() : isoDate(ms);
  }
  if (types(s).includes('string') && !s.enum) {
    // A parameter that names a dimension (agentId, user_id, …) gets a value of that dimension;
    // any other uuid is an id of the requesting tenant's (the only ids a key may name).
    const hint = DIMENSION_HINTS.find(([re]) => re.test(name));
    if (hint && ctx.dimensions[hint[1]]) return ctx.dimensions[hint[1]];
    if (s.format === 'uuid') return ctx.tenantId;
  }
  if (example !== undefined) return example;
  if (s.example !== undefined) return s.example;
  if (s.examples?.length) return s.examples[0];
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  const options = s.anyOf ?? s.oneOf;
  if (options?.length) return valueFor(doc, name, options.find((o) => !types(resolve(doc, o)).includes('null')) ?? options[0], ctx);
  const t = types(s).filter((x) => x !== 'null')[0];
  switch (t) {
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => valueFor(doc, name, s.items, ctx));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of s.required ?? []) out[key] = valueFor(doc, key, s.properties?.[key], ctx);
      return out;
    }
    default:
      return 'x';
  }
}

/** Whether the walk sets this parameter: required ones, and the time window whenever offered. */
const fills = (doc: OpenApiDoc, p: Parameter) => {
  const s = resolve(doc, p.schema);
  return p.required || p.in === 'path' || (/^(from|to|start|end)$/i.test(p.name) && (s.format === 'date-time' || isDate(s)));
};

/** Optional string parameters that select one value of a dimension (agentId, project, api_key_id, …). */
export function dimensionParams(doc: OpenApiDoc, op: Operation, ctx: FillContext): Parameter[] {
  return op.parameters
    .filter((p) => p.in === 'query' && !fills(doc, p) && isStringSchema(doc, p.schema))
    .filter((p) => DIMENSION_HINTS.some(([re, dim]) => re.test(p.name) && ctx.dimensions[dim] !== undefined));
}

export interface WalkRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
}

/** Values set instead of the filled ones: parameters by name, and/or the whole body. */
export interface Overrides {
  params?: Record<string, unknown>;
  body?: unknown;
}

/** The operation as a request with valid values, some replaced by `overrides`. */
export function requestFor(doc: OpenApiDoc, op: Operation, ctx: FillContext, overrides: Overrides = {}): WalkRequest {
  let path = op.path;
  const query = new URLSearchParams();
  for (const p of op.parameters) {
    if (p.in !== 'path' && p.in !== 'query') continue;
    const overridden = overrides.params !== undefined && p.name in overrides.params;
    if (!overridden && !fills(doc, p)) continue;
    const v = overridden ? overrides.params![p.name] : valueFor(doc, p.name, p.schema, ctx, p.example);
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(String(v)));
    else if (Array.isArray(v)) v.forEach((x) => query.append(p.name, String(x)));
    else query.set(p.name, String(v));
  }
  const qs = query.toString();
  const body = 'body' in overrides ? overrides.body : op.body ? valueFor(doc, 'body', op.body, ctx) : undefined;
  return { method: op.method === 'get' ? 'GET' : 'POST', url: path + (qs ? `?${qs}` : ''), body };
}

/**
 * One parameter set per value of each enum path parameter (/export/csv/{type} is four
 * routes in one template); a single empty set otherwise.
 */
export function pathVariants(doc: OpenApiDoc, op: Operation): Record<string, unknown>[] {
  let sets: Record<string, unknown>[] = [{}];
  for (const p of op.parameters) {
    const values = p.in === 'path' ? resolve(doc, p.schema).enum : undefined;
    if (values?.length) sets = sets.flatMap((set) => values.map((v) => ({ ...set, [p.name]: v })));
  }
  return sets;
}
