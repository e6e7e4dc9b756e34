/**
 * The props contract of every construct in lib/, held to aws-cdk-lib's convention: each member readonly, with a
 * TSDoc sentence, and an `@default` on each optional one (what you get when you leave it out); and TSDoc on every
 * public member of a class, the handles to what a construct creates.
 *
 * The project compiles with the native TypeScript 7 compiler, whose npm package has no JavaScript API (only the
 * `tsc` executable), so the sources are parsed with oxc-parser (a TypeScript parser returning an ESTree/TS-ESTree
 * AST with its comments); a member's TSDoc is the `/** … *\/` block right before it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Comment, parseSync } from 'oxc-parser';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

/** A node of the AST, as far as the checker reads it. */
interface AstNode {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly [key: string]: unknown;
}

interface Declaration {
  readonly file: string;
  readonly name: string;
  readonly node: AstNode;
  /** The TSDoc blocks (`/** … *\/`) of the declaration's file. */
  readonly tsdocs: readonly Comment[];
}

const isNode = (value: unknown): value is AstNode =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

/** Every node under `node` (itself included), depth first. */
function* walk(node: unknown): Generator<AstNode> {
  if (Array.isArray(node)) {
    for (const child of node) yield* walk(child);
    return;
  }
  if (!isNode(node)) return;
  yield node;
  for (const [key, value] of Object.entries(node)) if (key !== 'type') yield* walk(value);
}

/** The interfaces and type aliases declared in `source`. */
function declarations(file: string, source: string): Declaration[] {
  const { program, comments, errors } = parseSync(file, source);
  if (errors.length > 0) throw new Error(`${file}: ${errors.map((e) => e.message).join('; ')}`);
  const tsdocs = comments.filter((comment) => comment.type === 'Block' && comment.value.startsWith('*'));
  return [...walk(program)]
    .filter((node) => node.type === 'TSInterfaceDeclaration' || node.type === 'TSTypeAliasDeclaration')
    .map((node) => ({ file, name: (node.id as { name: string }).name, node, tsdocs }));
}

/**
 * The text of the TSDoc block right before `node` (nothing but whitespace between them), without the `*` that
 * starts each line; undefined when there is none.
 */
function tsdocOf(source: string, tsdocs: readonly Comment[], node: AstNode): string | undefined {
  const doc = tsdocs.find(
    (comment) => comment.end <= node.start && /^\s*(?:export\s+)?$/.test(source.slice(comment.end, node.start)),
  );
  return doc?.value
    .slice(1)
    .split('\n')
    .map((line) => line.replace(/^\s*\*?\s?/, ''))
    .join('\n')
    .trim();
}

/** Names of the types `node` refers to (`SinkNetwork`, `Partial<AlarmThresholds>` → both `Partial` and it). */
const referencedNames = (node: AstNode): string[] =>
  [...walk(node)]
    .filter((n) => n.type === 'TSTypeReference')
    .map((n) => (n.typeName as { name?: string }).name)
    .filter((name): name is string => name !== undefined);

/** The object types written inline under `node`, outermost only (their own members hold the inner ones). */
function* inlineObjectTypes(node: unknown): Generator<AstNode> {
  if (Array.isArray(node)) {
    for (const child of node) yield* inlineObjectTypes(child);
    return;
  }
  if (!isNode(node)) return;
  if (node.type === 'TSTypeLiteral') {
    yield node;
    return;
  }
  for (const [key, value] of Object.entries(node)) if (key !== 'type') yield* inlineObjectTypes(value);
}

const propertiesOf = (objectType: AstNode): AstNode[] =>
  (
    (objectType.type === 'TSInterfaceDeclaration'
      ? (objectType.body as { body: AstNode[] }).body
      : objectType.members) as AstNode[]
  ).filter((member) => member.type === 'TSPropertySignature');

/**
 * Types inferred from the configuration's zod schema: their fields are documented there, by `.meta({ description })`,
 * from which the README's configuration reference is generated.
 */
const SCHEMA_TYPES = new Set(['PipelineConfig', 'PipelineConfigInput']);

/**
 * What breaks the contract in the given sources: the props interfaces (names ending in `Props` or `Options`) and
 * every interface or type alias of the same sources their members refer to, transitively: each of them, and every
 * property in it, those of object types written inline included. One line per problem: `file: Type.member is …`.
 */
function propsContractFindings(sources: ReadonlyMap<string, string>): string[] {
  const all = [...sources].flatMap(([file, source]) => declarations(file, source));
  const byName = new Map(all.map((declaration) => [declaration.name, declaration]));
  const queue = all.filter(({ name }) => /(Props|Options)$/.test(name));
  const checked = new Set<Declaration>();
  const findings: string[] = [];
  while (queue.length > 0) {
    const declaration = queue.shift() as Declaration;
    if (checked.has(declaration) || SCHEMA_TYPES.has(declaration.name)) continue;
    checked.add(declaration);
    const source = sources.get(declaration.file) as string;
    const check = (path: string, member: AstNode) => {
      const name = `${path}.${(member.key as { name?: string; value?: string }).name ?? (member.key as { value?: string }).value}`;
      const problem = (text: string) => findings.push(`${declaration.file}: ${name} ${text}`);
      const doc = tsdocOf(source, declaration.tsdocs, member);
      const description = doc?.split(/(?:^|\s)@[a-zA-Z]+/)[0]?.trim();
      const hasDefault = doc !== undefined && /(?:^|\s)@default\b/.test(doc);
      if (!member.readonly) problem('is not readonly');
      if (doc === undefined) problem('has no TSDoc');
      else if (!description) problem('has no description, only tags');
      if (member.optional && !hasDefault) problem('is optional without @default');
      if (!member.optional && hasDefault) problem('is required but documents a @default');
      for (const inline of inlineObjectTypes(member.typeAnnotation))
        for (const inner of propertiesOf(inline)) check(name, inner);
    };
    const { node } = declaration;
    if (tsdocOf(source, declaration.tsdocs, node) === undefined)
      findings.push(`${declaration.file}: ${declaration.name} has no TSDoc`);
    const objectTypes = node.type === 'TSInterfaceDeclaration' ? [node] : [...inlineObjectTypes(node.typeAnnotation)];
    for (const objectType of objectTypes)
      for (const member of propertiesOf(objectType)) check(declaration.name, member);
    for (const referenced of referencedNames(node)) {
      const next = byName.get(referenced);
      if (next && !checked.has(next)) queue.push(next);
    }
  }
  return findings;
}

/**
 * What others call without TSDoc in the given sources: each public property and method of every class (overrides
 * excepted: their base documents them; constructors too: their props are documented above).
 */
function publicMemberFindings(sources: ReadonlyMap<string, string>): string[] {
  return [...sources].flatMap(([file, source]) => {
    const { program, comments } = parseSync(file, source);
    const tsdocs = comments.filter((comment) => comment.type === 'Block' && comment.value.startsWith('*'));
    return [...walk(program)]
      .filter((node) => node.type === 'ClassDeclaration')
      .flatMap((cls) =>
        ((cls.body as { body: AstNode[] }).body ?? [])
          .filter(
            (member) =>
              (member.type === 'PropertyDefinition' || member.type === 'MethodDefinition') &&
              member.kind !== 'constructor' &&
              member.accessibility !== 'private' &&
              member.accessibility !== 'protected' &&
              !member.override &&
              (member.key as { type: string }).type !== 'PrivateIdentifier' &&
              tsdocOf(source, tsdocs, member) === undefined,
          )
          .map(
            (member) =>
              `${file}: ${(cls.id as { name: string }).name}.${(member.key as { name: string }).name} has no TSDoc`,
          ),
      );
  });
}

/** Every TypeScript source under lib/, by path relative to the repository. */
function libSources(): Map<string, string> {
  const files = readdirSync(join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return new Map(files.map((f) => [relative(ROOT, join(ROOT, 'lib', f)), readFileSync(join(ROOT, 'lib', f), 'utf8')]));
}

/**
 * Files whose props another part of issue 12 is rewriting (item 4, monitoring by service): held to the contract once
 * that lands. Each entry must still have props findings, so a stale one fails this test instead of hiding a
 * regression.
 */
const PENDING = new Set<string>([]);

describe('construct props contracts in lib/', () => {
  it('documents every member of every props interface, with @default on the optional ones, all readonly', () => {
    // Given every source under lib/
    const sources = libSources();
    // When the props interfaces and the types they refer to are checked
    const findings = propsContractFindings(sources);
    // Then nothing breaks the contract outside the pending files, and each pending file still has findings
    expect(findings.filter((finding) => !PENDING.has(finding.split(':')[0] as string))).toEqual([]);
    for (const file of PENDING) expect(findings.some((finding) => finding.startsWith(`${file}:`))).toBe(true);
  });

  it('documents every public member of every class (the handles to what a construct creates)', () => {
    // Given every source under lib/ / When the classes' public members are checked
    const findings = publicMemberFindings(libSources());
    // Then each has TSDoc, outside the pending files
    expect(findings.filter((finding) => !PENDING.has(finding.split(':')[0] as string))).toEqual([]);
  });

  it('reports a public class member without TSDoc, and leaves private ones and overrides alone', () => {
    const source = [
      '/** A. */',
      'export class A extends B {',
      '  /** Documented. */',
      '  public readonly documented: number;',
      '  public readonly handle: number;',
      '  public method(): void {}',
      '  public override readonly name = "A";',
      '  private readonly hidden = 1;',
      '  public constructor() { super(); }',
      '}',
    ].join('\n');
    expect(publicMemberFindings(new Map([['a.ts', source]]))).toEqual([
      'a.ts: A.handle has no TSDoc',
      'a.ts: A.method has no TSDoc',
    ]);
  });

  it('checks the interfaces and aliases the props refer to, and object types written inline', () => {
    // Given a props interface that refers to an interface and an alias of the same sources, one of them inline
    const sources = new Map([
      [
        'a.ts',
        [
          '/** A widget. */',
          'export interface WidgetProps {',
          '  /** Where. */',
          '  readonly network: Network;',
          '  /** How. @default inline */',
          '  readonly pollers?: { readonly minimum: number };',
          '}',
          '/** A network. */ interface Network { readonly vpcId: string }',
        ].join('\n'),
      ],
      ['b.ts', 'export type Source = { readonly arn: string };\nexport interface Other { readonly id: string }'],
      [
        'c.ts',
        'import type { Source } from "./b";\n/** A thing. */\nexport interface ThingOptions { /** The source. */ readonly source: Source }',
      ],
    ]);
    // When checked / Then the referred types and the inline member are held to it; unreferenced `Other` is not
    expect(propsContractFindings(sources)).toEqual([
      'a.ts: WidgetProps.pollers.minimum has no TSDoc',
      'a.ts: Network.vpcId has no TSDoc',
      'b.ts: Source has no TSDoc',
      'b.ts: Source.arn has no TSDoc',
    ]);
  });

  it.each([
    ['a member without TSDoc', 'readonly a: string;', 'X.a has no TSDoc'],
    ['a TSDoc with only a tag', '/** @default 1 */ readonly a?: number;', 'X.a has no description, only tags'],
    ['an optional member without @default', '/** A. */ readonly a?: number;', 'X.a is optional without @default'],
    [
      'a required member with @default',
      '/** A. @default 1 */ readonly a: number;',
      'X.a is required but documents a @default',
    ],
    ['a mutable member', '/** A. */ a: number;', 'X.a is not readonly'],
    ['a line comment instead of TSDoc', '// A.\n readonly a: string;', 'X.a has no TSDoc'],
    ['a plain block comment instead of TSDoc', '/* A. */ readonly a: string;', 'X.a has no TSDoc'],
  ])('reports %s', (_, member, finding) => {
    // Given a props interface with that member
    const sources = new Map([['x.ts', `/** X. */\ninterface XProps {\n  ${member}\n}`]]);
    // When checked / Then exactly that problem is reported (the type named as declared)
    expect(propsContractFindings(sources)).toEqual([`x.ts: ${finding.replace(/^X\./, 'XProps.')}`]);
  });

  it('reports a props interface without TSDoc of its own', () => {
    const sources = new Map([['x.ts', 'export interface XProps {\n  /** A. */\n  readonly a: string;\n}']]);
    expect(propsContractFindings(sources)).toEqual(['x.ts: XProps has no TSDoc']);
  });

  it('accepts a member documented the aws-cdk-lib way', () => {
    const sources = new Map([
      [
        'x.ts',
        '/** Properties of an X. */\nexport interface XProps {\n  /**\n   * Records per batch.\n   * @default 100\n   */\n  readonly batchSize?: number;\n  /** The queue. */\n  readonly queue: string;\n}',
      ],
    ]);
    expect(propsContractFindings(sources)).toEqual([]);
  });
});
