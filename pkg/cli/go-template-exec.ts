// Runs a parsed go-template (go-template-parse.ts) over kubectl's data for it: the object, or the
// List, as JSON decodes it. Go's text/template rules: field chains look keys up in maps (a missing
// one is `<no value>`, or an error with --allow-missing-template-keys=false), `.` is the current
// value, if/with/range take Go's truth, variables live to the {{end}} of what declared them,
// pipelines pass their value as the last argument of the next command. Pure.
import { XnetError } from '../errors.js';
import { positionText } from './go-template-lex.js';
import { Float64, formatV, kindOf, sortedKeys, typeName } from './go-template-fmt.js';
import { callFunction, FuncError, FUNCTION_NAMES, truth, WrongArgs } from './go-template-funcs.js';
import { parseGoTemplate, type Command, type ControlNode, type GoTemplate, type Operand, type Pipe, type TNode } from './go-template-parse.js';

/** A template that parsed but failed on this data; `object`, the KIND/NAME it was at, when it was at one. */
export class GoTemplateExecError extends XnetError {
  constructor(message: string, readonly object?: string) { super('GoTemplateFailed', message); }
}

/**
 * What one run may take. Go's text/template has no bound: `{{range 1000000000}}`, or ranges over
 * the List nested in ranges over it, run for hours, and text made in a loop fills the heap.
 * `steps`: actions, calls and turns of a range, together (a template over thousands of objects
 * takes a few hundred thousand); `text`: characters printed or made by print, printf, println.
 */
export interface GoTemplateLimits { steps: number; text: number }
export const TEMPLATE_LIMITS: GoTemplateLimits = { steps: 5_000_000, text: 64 * 1024 * 1024 };

export interface GoExecOptions { allowMissingKeys: boolean; limits?: GoTemplateLimits }

/** Parses with the functions the evaluator has; a GoTemplateSyntaxError when it does not parse. */
export const parseTemplateText = (source: string): GoTemplate => parseGoTemplate(source, FUNCTION_NAMES);

/** The template's text for `data`, or a GoTemplateExecError (and nothing printed: kubectl's partial output is not). */
export function executeGoTemplate(t: GoTemplate, data: unknown, opts: GoExecOptions): string {
  const s = new State(t.source, data, opts);
  s.walk(data, t.nodes);
  return s.out;
}

/** No value given from the pipeline (Go's missingVal): the command is the pipeline's first. */
const NONE = Symbol('none');
class Break {}
class Continue {}
type At = { pos: number; src: string };

class State {
  out = '';
  private vars: Array<{ name: string; value: unknown }>;
  private dots: unknown[] = [];
  private steps = 0;
  private made = 0;
  private readonly limits: GoTemplateLimits;
  constructor(private source: string, data: unknown, private opts: GoExecOptions) {
    this.vars = [{ name: '$', value: data }];
    this.limits = opts.limits ?? TEMPLATE_LIMITS;
  }

  /** One more step of work; the run ends at the bound (GoTemplateLimits). */
  private step(): void {
    if (++this.steps > this.limits.steps) this.stop(`the template took more than ${this.limits.steps} steps (an action, a call or a turn of a range each); xctl stops it there`);
  }

  /** `text`, made by the template (printed or not), counted against the bound. */
  private counted(text: string): string {
    this.made += text.length;
    if (this.made > this.limits.text) this.stop(`the template made more than ${this.limits.text / 1024 / 1024} MiB of text; xctl stops it there`);
    return text;
  }

  private stop(why: string): never { throw new GoTemplateExecError(why, this.objectName()); }

  private fail(at: At, what: string): never {
    throw new GoTemplateExecError(`at <${at.src}> (${positionText(this.source, at.pos)}): ${what}`, this.objectName());
  }

  /** The innermost `.` that is an object (not the List): what an error names. */
  private objectName(): string | undefined {
    for (const d of [...this.dots].reverse()) {
      const o = d as { kind?: unknown; metadata?: { name?: unknown } } | null;
      if (kindOf(o) === 'map' && typeof o?.kind === 'string' && o.kind !== 'List' && typeof o.metadata?.name === 'string') return `${o.kind.toLowerCase()}/${o.metadata.name}`;
    }
    return undefined;
  }

  walk(dot: unknown, nodes: TNode[]): void {
    const depth = this.dots.push(dot);
    try {
      for (const n of nodes) this.walkNode(dot, n);
    } finally {
      // a {{break}} leaves through here too: the next error must not name an object left behind
      this.dots.length = depth - 1;
    }
  }

  private walkNode(dot: unknown, n: TNode): void {
    this.step();
    switch (n.t) {
      case 'text': this.out += this.counted(n.text); return;
      case 'action': {
        const v = this.evalPipe(dot, n.pipe);
        // Go prints a missing value (or nil) as "<no value>"; an action that declares prints nothing
        if (!n.pipe.decl.length) this.out += this.counted(v === undefined || v === null ? '<no value>' : formatV(v));
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipe(dot, n.pipe);
        if (truth(v)) this.walk(n.t === 'with' ? v : dot, n.list);
        else if (n.else) this.walk(dot, n.else);
        this.vars.length = mark;
        return;
      }
      case 'range': this.walkRange(dot, n); return;
      case 'break': throw new Break();
      case 'continue': throw new Continue();
    }
  }

  private walkRange(dot: unknown, n: ControlNode): void {
    const mark = this.vars.length;
    const val = this.evalPipe(dot, n.pipe);
    const inner = this.vars.length;
    const decl = n.pipe.decl.length;
    let ran = false;
    for (const [key, elem] of this.rangeEntries(val, decl, n.pipe.cmds[0].args[0])) {
      ran = true;
      this.step();
      if (decl > 0) this.vars[inner - 1].value = elem;
      if (decl > 1) this.vars[inner - 2].value = key;
      try {
        this.walk(elem, n.list);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.vars.length = inner;
      }
    }
    if (!ran && n.else) this.walk(dot, n.else);
    this.vars.length = mark;
  }

  /** What range goes over: an array's elements, a map's values by sorted key, 0..n-1 of an integer (text/template since Go 1.24; kubectl built with an older Go refuses it), one at a time. */
  private *rangeEntries(val: unknown, decl: number, at: At): Generator<[unknown, unknown]> {
    switch (kindOf(val)) {
      case 'slice': yield* (val as unknown[]).map((e, i): [number, unknown] => [i, e]); return;
      case 'map': for (const k of sortedKeys(val as object)) yield [k, (val as Record<string, unknown>)[k]]; return;
      case 'invalid': case 'nil': return;
      case 'int': {
        if (decl > 1) this.fail(at, `can't use ${formatV(val)} to iterate over more than one variable`);
        for (let i = 0; i < (val as number); i++) yield [i, i];
        return;
      }
      default: this.fail(at, `range can't iterate over ${formatV(val)}`);
    }
  }

  private evalPipe(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = NONE;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // Go digs into the interface: a nil (JSON null) becomes no value at all
      if (value === null) value = undefined;
    }
    for (const name of pipe.decl) {
      if (pipe.assign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) { this.vars[i].value = value; return; }
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    return undefined;
  }

  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    this.step();
    const [first] = cmd.args;
    const hasArgs = cmd.args.length > 1 || final !== NONE;
    if (first.t === 'func') return this.evalFunction(dot, first, cmd.args.slice(1), final, cmd);
    if (first.t === 'field') return this.fieldChain(dot, first, first.names, hasArgs);
    if ((first.t === 'var' || first.t === 'pipe') && first.names.length) return this.fieldChain(this.head(dot, first), first, first.names, hasArgs);
    if (hasArgs) this.fail(first, `can't give argument to non-function ${first.src}`);
    if (first.t === 'nil') this.fail(first, 'nil is not a command');
    return this.evalArg(dot, first);
  }

  /** A variable's or a parenthesized pipeline's value, before the fields after it. */
  private head(dot: unknown, o: Extract<Operand, { t: 'var' | 'pipe' }>): unknown {
    return o.t === 'var' ? this.varValue(o.name) : this.evalPipe(dot, o.pipe);
  }

  private evalArg(dot: unknown, o: Operand): unknown {
    switch (o.t) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'bool': case 'string': return o.v;
      case 'number': return o.float && Number.isInteger(o.v) ? new Float64(o.v) : o.v;
      case 'func': return this.evalFunction(dot, o, [], NONE, o);
      case 'field': return this.fieldChain(dot, o, o.names, false);
      case 'var': case 'pipe': return o.names.length ? this.fieldChain(this.head(dot, o), o, o.names, false) : this.head(dot, o);
    }
  }

  private fieldChain(receiver: unknown, at: At, names: string[], hasArgs: boolean): unknown {
    let v = receiver;
    names.forEach((name, i) => { v = this.field(v, name, at, hasArgs && i === names.length - 1); });
    return v;
  }

  private field(receiver: unknown, name: string, at: At, hasArgs: boolean): unknown {
    if (receiver === undefined) {
      if (!this.opts.allowMissingKeys) this.fail(at, `nil data; no entry for key "${name}"`);
      return undefined;
    }
    if (receiver === null) this.fail(at, `nil pointer evaluating interface {}.${name}`);
    if (kindOf(receiver) !== 'map') this.fail(at, `can't evaluate field ${name} in type ${typeName(receiver)}`);
    if (hasArgs) this.fail(at, `${name} is not a method but has arguments`);
    if (Object.hasOwn(receiver as object, name)) return (receiver as Record<string, unknown>)[name];
    if (!this.opts.allowMissingKeys) this.fail(at, `map has no entry for key "${name}"`);
    return undefined;
  }

  private evalFunction(dot: unknown, fn: Extract<Operand, { t: 'func' }>, args: Operand[], final: unknown, call: At): unknown {
    const n = args.length + (final === NONE ? 0 : 1);
    if ((fn.name === 'and' || fn.name === 'or') && !n) this.fail(fn, `wrong number of args for ${fn.name}: want at least 1 got 0`);
    if (fn.name === 'and' || fn.name === 'or') {
      // evaluated only as far as needed: `and .a .a.b` does not read .a.b when .a is empty
      let v: unknown;
      for (const a of args) { v = this.evalArg(dot, a); if (truth(v) === (fn.name === 'or')) return v; }
      return final === NONE ? v : final;
    }
    const values = args.map((a) => this.evalArg(dot, a));
    if (final !== NONE) values.push(final);
    try {
      const result = callFunction(fn.name, values);
      return typeof result === 'string' ? this.counted(result) : result;
    } catch (e) {
      if (e instanceof WrongArgs) this.fail(call, e.message);
      if (e instanceof FuncError) this.fail(call, `error calling ${fn.name}: ${e.message}`);
      throw e;
    }
  }
}
