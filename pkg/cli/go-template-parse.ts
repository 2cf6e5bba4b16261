// The parse tree of a Go text/template (`xctl get -o go-template=`): text, actions, if/with/range
// with their else branches, pipelines of commands. Built from go-template-lex.ts's tokens with
// Go's rules: functions and variables must exist when the template is parsed, `{{end}}` and
// `{{else}}` must close something. Pure.
import { GoTemplateSyntaxError, lexTemplate, type Tok } from './go-template-lex.js';

export { GoTemplateSyntaxError };

/** An operand; `src`, its text (Go names it in an execution error: `at <.metadata.nope>`); `names`, a field chain after it. */
export type Operand = { pos: number; src: string } & (
  | { t: 'dot' } | { t: 'nil' } | { t: 'bool'; v: boolean } | { t: 'string'; v: string }
  | { t: 'number'; v: number; float: boolean } | { t: 'func'; name: string }
  | { t: 'field'; names: string[] } | { t: 'var'; name: string; names: string[] }
  | { t: 'pipe'; pipe: Pipe; names: string[] });
export interface Command { args: Operand[]; pos: number; src: string }
export interface Pipe { decl: string[]; assign: boolean; cmds: Command[]; pos: number }
export type TNode =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipe }
  | ControlNode
  | { t: 'break' | 'continue'; pos: number };
export interface ControlNode { t: 'if' | 'with' | 'range'; pipe: Pipe; list: TNode[]; else?: TNode[]; pos: number }
export interface GoTemplate { source: string; nodes: TNode[] }

/** What the evaluator knows (go-template-funcs.ts): a name outside it is no function, as Go says at parse time. */
export type FunctionNames = ReadonlySet<string>;

const UNSUPPORTED = new Set(['define', 'template', 'block']);
const NOT_HERE = new Set(['call', 'html', 'js', 'urlquery']);

export function parseGoTemplate(source: string, funcs: FunctionNames): GoTemplate {
  const p = new Parser(source, lexTemplate(source), funcs);
  const { nodes, stop } = p.list();
  if (stop) throw new GoTemplateSyntaxError(`unexpected {{${stop.word}}}`, stop.pos);
  return { source, nodes };
}

interface Stop { word: 'end' | 'else'; pos: number; elseOf?: 'if' | 'with' }

/**
 * How deep parentheses and blocks nest (an `{{else if}}` is a block inside the else): parsing and
 * running recurse once per level, and a template file could nest thousands deep and overflow the
 * stack. No template written by hand comes near it.
 */
export const MAX_NESTING = 100;

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;
  constructor(private src: string, private toks: Tok[], private funcs: FunctionNames) {}

  private peek(): Tok { return this.toks[this.i]; }
  private next(): Tok { return this.toks[this.i++]; }
  private skipSpace(): Tok { while (this.peek().k === 'space') this.i++; return this.peek(); }
  private fail(what: string, at: Tok | number): never { throw new GoTemplateSyntaxError(what, typeof at === 'number' ? at : at.pos); }

  /** `read`, one level deeper: parentheses or a block. */
  private nested<T>(at: number, read: () => T): T {
    if (++this.depth > MAX_NESTING) this.fail(`nested more than ${MAX_NESTING} deep (parentheses, if, with, range, else if)`, at);
    try { return read(); } finally { this.depth--; }
  }

  /** Nodes up to the end of the template, or up to the `{{end}}`/`{{else}}` that stops them (returned). */
  list(): { nodes: TNode[]; stop?: Stop } {
    const nodes: TNode[] = [];
    for (;;) {
      const t = this.next();
      if (t.k === 'eof') return { nodes };
      if (t.k === 'text') { nodes.push({ t: 'text', text: t.v }); continue; }
      const r = this.action(t);
      if ('word' in r) return { nodes, stop: r };
      nodes.push(r);
    }
  }

  private action(left: Tok): TNode | Stop {
    const t = this.skipSpace();
    if (t.k === 'word' && ['if', 'with', 'range'].includes(t.v)) { this.next(); return this.nested(t.pos, () => this.control(t.v as 'if' | 'with' | 'range', t.pos)); }
    if (t.k === 'word' && t.v === 'end') { this.next(); this.close('end'); return { word: 'end', pos: t.pos }; }
    if (t.k === 'word' && t.v === 'else') return this.elseAction(t);
    if (t.k === 'word' && (t.v === 'break' || t.v === 'continue')) {
      this.next();
      if (!this.rangeDepth) this.fail(`{{${t.v}}} outside {{range}}`, t);
      this.close(t.v);
      return { t: t.v, pos: t.pos };
    }
    if (t.k === 'word' && UNSUPPORTED.has(t.v)) this.fail(`{{${t.v}}} is not supported by xctl (one template, no named ones)`, t);
    if (t.k === 'right') this.fail('missing value for command', left);
    const pipe = this.pipeline('command', false);
    return { t: 'action', pipe };
  }

  private elseAction(t: Tok): Stop {
    this.next();
    const after = this.skipSpace();
    if (after.k === 'word' && (after.v === 'if' || after.v === 'with')) {
      // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing the outer {{end}}; its action is read by control()
      return { word: 'else', pos: t.pos, elseOf: after.v };
    }
    this.close('else');
    return { word: 'else', pos: t.pos };
  }

  /** if, with or range, from after its word to its {{end}}; the variables it declares end there. */
  private control(kind: 'if' | 'with' | 'range', pos: number): TNode {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, kind === 'range');
    if (kind === 'range') this.rangeDepth++;
    const body = this.list();
    if (kind === 'range') this.rangeDepth--;
    let elseList: TNode[] | undefined;
    let stop = body.stop;
    if (stop?.word === 'else' && stop.elseOf) {
      const { elseOf, pos: at } = stop;
      if (elseOf !== kind) this.fail(`{{else ${elseOf}}} in ${kind === 'if' ? 'an' : 'a'} {{${kind}}}: Go takes {{else if}} in an {{if}} and {{else with}} in a {{with}}, no other`, at);
      this.next();   // the `if` or `with` after `else`
      elseList = [this.nested(at, () => this.control(elseOf, at))];
      stop = { word: 'end', pos: stop.pos };
    } else if (stop?.word === 'else') {
      const rest = this.list();
      elseList = rest.nodes;
      if (rest.stop?.word === 'else') this.fail(`expected {{end}}; found {{else}}`, rest.stop.pos);
      stop = rest.stop;
    }
    if (!stop) this.fail(`unexpected EOF: {{${kind}}} without its {{end}}`, pos);
    this.vars.length = mark;
    return { t: kind, pipe, list: body.nodes, else: elseList, pos };
  }

  /** The rest of an action: `}}` (the space before it skipped). */
  private close(what: string): void {
    const t = this.skipSpace();
    if (t.k !== 'right') this.fail(`unexpected ${describe(t)} in ${what}`, t);
    this.next();
  }

  /** [$x :=|= ] command [| command]... up to `}}` (or `)` when `inParens`). */
  private pipeline(context: string, isRange: boolean, inParens = false): Pipe {
    const start = this.skipSpace().pos;
    const { decl, assign } = this.declarations(context, isRange);
    const cmds: Command[] = [];
    for (;;) {
      const t = this.skipSpace();
      if (t.k === (inParens ? 'rparen' : 'right')) {
        this.next();
        if (!cmds.length) this.fail(`missing value for ${context}`, t);
        if (!assign) this.vars.push(...decl);
        return { decl, assign, cmds, pos: start };
      }
      if (cmds.length) {
        if (t.k !== 'pipe') this.fail(`unexpected ${describe(t)} in ${context}`, t);
        this.next();
      }
      const cmd = this.command(context);
      if (cmds.length && ['bool', 'dot', 'nil', 'number', 'string'].includes(cmd.args[0].t)) this.fail(`non executable command in pipeline stage ${cmds.length + 1}`, cmd.pos);
      cmds.push(cmd);
    }
  }

  private declarations(context: string, isRange: boolean): { decl: string[]; assign: boolean } {
    const save = this.i;
    const decl: string[] = [];
    for (;;) {
      const v = this.skipSpace();
      if (v.k !== 'var') break;
      this.next();
      const op = this.skipSpace();
      if (op.k === 'comma' && isRange && decl.length === 0) { decl.push(v.v); this.next(); continue; }
      if (op.k === 'declare' || op.k === 'assign') {
        decl.push(v.v);
        this.next();
        if (decl.length > 1 && !isRange) this.fail(`too many declarations in ${context}`, v);
        if (op.k === 'assign') for (const name of decl) if (!this.vars.includes(name)) this.fail(`undefined variable "${name}"`, v);
        return { decl, assign: op.k === 'assign' };
      }
      break;
    }
    if (decl.length) this.fail(`missing := after ${decl[0]}, in ${context}`, save);
    this.i = save;
    return { decl: [], assign: false };
  }

  private command(context: string): Command {
    const args: Operand[] = [];
    const pos = this.skipSpace().pos;
    for (;;) {
      const t = this.skipSpace();
      if (t.k === 'pipe' || t.k === 'right' || t.k === 'rparen' || t.k === 'eof') break;
      if (args.length && this.toks[this.i - 1].k !== 'space') this.fail(`missing space before ${describe(t)}`, t);
      args.push(this.operand());
    }
    if (!args.length) this.fail(`missing value for ${context}`, pos);
    return { args, pos, src: this.src.slice(pos, this.toks[this.i - 1].end).trimEnd() };
  }

  private operand(): Operand {
    const t = this.next();
    const term = this.term(t);
    const names: string[] = [];
    while (this.peek().k === 'field') names.push(this.next().v.slice(1));
    if (!names.length) return term;
    const src = this.src.slice(t.pos, this.peek().pos);
    if (term.t === 'field' || term.t === 'var' || term.t === 'pipe') return { ...term, names: [...term.names, ...names], src };
    return this.fail(`unexpected . after term ${JSON.stringify(term.src)}`, t);
  }

  private term(t: Tok): Operand {
    const at = { pos: t.pos, src: this.src.slice(t.pos, this.peek().pos) };
    switch (t.k) {
      case 'dot': return { ...at, t: 'dot' };
      case 'field': return { ...at, t: 'field', names: [t.v.slice(1)] };
      case 'string': return { ...at, t: 'string', v: t.v };
      case 'char': return { ...at, t: 'number', v: Number(t.v), float: false };
      case 'number': return { ...at, ...numberOf(t) };
      case 'var': {
        if (!this.vars.includes(t.v)) this.fail(`undefined variable "${t.v}"`, t);
        return { ...at, t: 'var', name: t.v, names: [] };
      }
      case 'lparen': {
        const pipe = this.nested(t.pos, () => this.pipeline('parenthesized pipeline', false, true));
        return { pos: t.pos, src: this.src.slice(t.pos, this.peek().pos), t: 'pipe', pipe, names: [] };
      }
      case 'word': return { ...at, ...this.word(t) };
      default: return this.fail(`unexpected ${describe(t)} in operand`, t);
    }
  }

  private word(t: Tok): { t: 'nil' } | { t: 'bool'; v: boolean } | { t: 'func'; name: string } {
    if (t.v === 'nil') return { t: 'nil' };
    if (t.v === 'true' || t.v === 'false') return { t: 'bool', v: t.v === 'true' };
    if (NOT_HERE.has(t.v)) this.fail(`function "${t.v}" is not supported by xctl`, t);
    if (!this.funcs.has(t.v)) this.fail(`function "${t.v}" not defined`, t);
    return { t: 'func', name: t.v };
  }
}

function numberOf(t: Tok): { t: 'number'; v: number; float: boolean } {
  const text = t.v.replace(/_/g, '');
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[+-]/, '');
  // Go reads a whole number with a leading 0 as octal: 017 is 15, and 09 no number
  const octal = /^0[0-9]+$/.test(body);
  const v = octal ? (/[89]/.test(body) ? NaN : parseInt(body, 8)) : Number(body);
  if (Number.isNaN(v) || body === '') throw new GoTemplateSyntaxError(`bad number syntax: "${t.v}"`, t.pos);
  // Go's rule: a constant written with ".", "e" or "E" (not in hex) is a float64, any other an int
  const float = !/^0[xXbBoO]/.test(body) && /[.eE]/.test(body);
  if (!float && !Number.isSafeInteger(v)) throw new GoTemplateSyntaxError(`${t.v} overflows int`, t.pos);
  return { t: 'number', v: sign * v, float };
}

function describe(t: Tok): string {
  if (t.k === 'eof') return 'EOF';
  if (t.k === 'right') return '"}}"';
  return JSON.stringify(t.v);
}
