import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import {
  type Binding,
  BUILTIN_FUNCTIONS,
  type BuiltinCon,
  type BuiltinFunction,
  type BuiltinLit,
  type BuiltinType,
  type CaseAlt,
  type CasePattern,
  type DataCons,
  type DefDataType,
  type DefException,
  type DefInterface,
  type DefTemplate,
  type DefTypeSyn,
  type DefValue,
  type DottedName,
  type Expr,
  type FieldWithExpr,
  type FieldWithType,
  type Identifier,
  type InterfaceMethod,
  type Kind,
  type LanguageVersion,
  type Location,
  type Module,
  type ModuleRef,
  type Package,
  type PackageId,
  type PackageMetadata,
  type TemplateChoice,
  type TemplateImplements,
  type Type,
  type TypeConApp,
  type TypeVarWithKind,
  type Update,
  type VarWithType,
} from './ast.js';
import { WireReader } from './wire.js';

/*
 * Decoder for the `daml_lf_2.Package` message (LF 2.1 and 2.2). Field numbers are those of
 * `daml_lf2.proto` in the canton repository; semantics and version gates follow its DecodeV2.
 *
 * Every type outside the `interned_types` table must be a reference into it, so types are decoded once per
 * package. LF 2.2 ("flat archive") also interns kinds and expressions; interned expressions may only refer to
 * smaller indices, so the table is decoded in index order (a prefix at a time, on demand) and each entry is
 * shared by all its users. Module bodies are decoded lazily on first access.
 */

/** Stable packages that LF 2.2 archives may still name by package id instead of through their import table. */
export const STABLE_PACKAGE_IDS: ReadonlySet<PackageId> = new Set([
  'ee33fb70918e7aaa3d3fc44d64a399fb2bf5bcefc54201b1690ecd448551ba88',
  '6da1f43a10a179524e840e7288b47bda213339b0552d92e87ae811e52f59fc0e',
  'f181cd661f7af3a60bdaae4b0285a2a67beb55d6910fc8431dbae21a5825ec0f',
  '91e167fa7a256f21f990c526a0a0df840e99aeef0e67dc1f5415b0309486de74',
  '0e4a572ab1fb94744abb02243a6bbed6c78fc6e3c8d3f60c655f057692a62816',
  'e5411f3d75f072b944bd88e652112a14a3d409c491fd9a51f5f6eede6d3a3348',
  'ab068e2f920d0e06347975c2a342b71f8b8e3b4be0f02ead9442caac51aa8877',
  '5aee9b21b8e9a4c4975b5f4c4198e6e6e8469df49e2010820e792f393db870f4',
  'fcee8dfc1b81c449b421410edd5041c16ab59c45bbea85bcb094d1b17c3e9df7',
  '19f0df5fdaf5a96e137b6ea885fdb378f37bd3166bd9a47ee11518e33fa09a20',
  'e7e0adfa881e7dbbb07da065ae54444da7c4bccebcb8872ab0cb5dcf9f3761ce',
  'a1fa18133ae48cbb616c4c148e78e661666778c3087d099067c7fe1868cbb3a1',
  'fa79192fe1cce03d7d8db36471dde4cf6c96e6d0f07e1c391dd49e355af9b38c',
  '6f8e6085f5769861ae7a40dccd618d6f747297d59b37cab89b93e2fa80b0c024',
  '86d888f34152dae8729900966b44abcb466b9c111699678de58032de601d2b04',
  '7adc4c2d07fa3a51173c843cba36e610c1168b2dbbf53076e20c0092eae8763d',
  'c280cc3ef501d237efa7b1120ca3ad2d196e089ad596b666bed59a85f3c9a074',
  '9e70a8b3510d617f8a136213f33d6a903a10ca0eeec76bb06ba55d1ed9680f69',
  'cae345b5500ef6f84645c816f88b9f7a85a9f3c71697984abdf6849f81e80324',
  '52854220dc199884704958df38befd5492d78384a032fd7558c38f00e3d778a2',
  'bde4bd30749e99603e5afa354706608601029e225d4983324d617825b634253a',
  'bfda48f9aa2c89c895cde538ec4b4946c7085959e031ad61bde616b9849155d7',
  'd095a2ccf6dd36b2415adc4fa676f9191ba63cd39828dc5207b36892ec350cbc',
  'c3bb0c5d04799b3f11bad7c3c102963e115cf53da3e4afcbcfd9f06ebd82b4ff',
  '60c61c542207080e97e378ab447cc355ecc47534b3a3ebbff307c4fb8339bc4d',
  'b70db8369e1c461d5c70f1c86f526a29e9776c655e6ffc2560f95b05ccb8b946',
  '3cde94fe9be5c700fc1d9a8ad2277e2c1214609f8c52a5b4db77e466875b8cb7',
]);

/** Proto numbers of `BuiltinFunction`, in the order of `BUILTIN_FUNCTIONS`. */
const BUILTIN_FUNCTION_NUMBERS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 28, 29,
  30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63,
  64, 65, 59, 66, 67, 68, 69, 70, 71, 72, 73,
];
const builtinFunctionByNumber = new Map<number, BuiltinFunction>(
  BUILTIN_FUNCTIONS.map((name, i) => [BUILTIN_FUNCTION_NUMBERS[i]!, name]),
);
/** Known `BuiltinFunction` values that LF 2.1/2.2 reject (dev-only, or from a later version). */
const UNSUPPORTED_BUILTIN_FUNCTIONS = new Map<number, string>([
  [73, 'SECP256K1_VALIDATE_KEY (Daml-LF 2.3+)'],
  [2001, 'SCALE_BIGNUMERIC'],
  [2002, 'PRECISION_BIGNUMERIC'],
  [2003, 'ADD_BIGNUMERIC'],
  [2004, 'SUB_BIGNUMERIC'],
  [2005, 'MUL_BIGNUMERIC'],
  [2006, 'DIV_BIGNUMERIC'],
  [2007, 'SHIFT_RIGHT_BIGNUMERIC'],
  [2008, 'BIGNUMERIC_TO_NUMERIC'],
  [2009, 'NUMERIC_TO_BIGNUMERIC'],
  [2010, 'BIGNUMERIC_TO_TEXT'],
  [3011, 'TYPE_REP_TYCON_NAME'],
  [5001, 'EXTERNAL_CALL'],
]);

const BUILTIN_TYPES: ReadonlyMap<number, BuiltinType> = new Map<number, BuiltinType>([
  [0, 'UNIT'],
  [1, 'BOOL'],
  [2, 'INT64'],
  [3, 'DATE'],
  [4, 'TIMESTAMP'],
  [5, 'NUMERIC'],
  [6, 'PARTY'],
  [7, 'TEXT'],
  [8, 'CONTRACT_ID'],
  [9, 'OPTIONAL'],
  [10, 'LIST'],
  [11, 'GENMAP'],
  [13, 'ANY'],
  [14, 'ANY_EXCEPTION'],
  [15, 'TYPE_REP'],
  [16, 'ARROW'],
  [17, 'UPDATE'],
  [18, 'FAILURE_CATEGORY'],
  [19, 'TEXTMAP'],
]);
const UNSUPPORTED_BUILTIN_TYPES = new Map<number, string>([
  [1002, 'BIGNUMERIC'],
  [1003, 'ROUNDING_MODE'],
]);

const BUILTIN_CONS: readonly BuiltinCon[] = ['Unit', 'False', 'True'];

const NAME_RE = /^[A-Za-z$_][A-Za-z0-9$_]*$/;
const PACKAGE_ID_RE = /^[A-Za-z0-9\-_ ]{1,64}$/;
const PACKAGE_NAME_RE = /^[A-Za-z0-9\-_]{1,255}$/;
const PACKAGE_VERSION_RE = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const NUMERIC_RE = /^-?([1-9][0-9]*|0)\.([0-9]*)$/;
const MAX_NAME_LENGTH = 1000;
const MAX_NUMERIC_SCALE = 37;
const MAX_NUMERIC_PRECISION = 38;
const MIN_TIMESTAMP_MICROS = -62135596800000000n; // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_MICROS = 253402300799999999n; // 9999-12-31T23:59:59.999999Z
const MIN_DATE_DAYS = -719162; // 0001-01-01
const MAX_DATE_DAYS = 2932896; // 9999-12-31

const STAR: Kind = Object.freeze({ tag: 'Star' });
const NAT: Kind = Object.freeze({ tag: 'Nat' });
const TRUE: Expr = Object.freeze({ tag: 'BuiltinCon', con: 'True' });

const NONE = -1;
/** Real archives nest at most ~100 levels; Canton parses LF 2.1 with a 1000-level protobuf limit. */
const MAX_NESTING = 1000;

/** A byte range `[start, end)` of a sub-message in the package bytes. */
type Range = readonly [number, number];

/**
 * Decodes the bytes of a `daml_lf_2.Package` (the `ArchivePayload.daml_lf_2` field) of a package whose id was
 * already computed from the payload. `context` names the archive in error messages.
 */
export function decodePackage(
  packageId: PackageId,
  languageVersion: LanguageVersion,
  bytes: Uint8Array,
  context: string,
): Package {
  return new PackageDecoder(packageId, languageVersion, bytes, context).package;
}

class DecodedPackage implements Package {
  private readonly cache = new Map<string, Module>();

  constructor(
    readonly id: PackageId,
    readonly languageVersion: LanguageVersion,
    readonly metadata: PackageMetadata,
    readonly moduleNames: readonly string[],
    readonly imports: readonly PackageId[] | undefined,
    private readonly moduleRanges: ReadonlyMap<string, Range>,
    private readonly decoder: PackageDecoder,
  ) {}

  module(name: string): Module | undefined {
    let m = this.cache.get(name);
    if (m === undefined) {
      const range = this.moduleRanges.get(name);
      if (range === undefined) return undefined;
      m = this.decoder.module(range);
      this.cache.set(name, m);
    }
    return m;
  }

  modules(): readonly Module[] {
    return this.moduleNames.map((n) => this.module(n)!);
  }
}

class PackageDecoder {
  readonly package: Package;
  private readonly r: WireReader;
  /** LF 2.2+: flat archive (interned kinds/exprs, TApp, singleton binders) and explicit package imports. */
  private readonly flat: boolean;
  private readonly strings: string[] = [];
  /** Per interned string: 0 = not checked, 1 = valid Name, 2 = invalid. */
  private nameChecks: Uint8Array = new Uint8Array(0);
  private readonly dnames: DottedName[] = [];
  private readonly kinds: Kind[] = [];
  private readonly types: Type[] = [];
  private readonly exprRanges: Range[] = [];
  private readonly exprs: Expr[] = [];
  private imports: string[] | undefined;
  private readonly refs = new Map<ModuleRef, Map<number, Identifier>>();
  private readonly moduleRefs = new Map<number, ModuleRef>();
  /** Index of the interning-table entry being decoded (references must point below it), or NONE. */
  private currentEntry = NONE;
  private currentModule: ModuleRef | undefined;
  /** Current expression/type/kind nesting, bounded so hostile archives cannot exhaust the JS stack. */
  private depth = 0;

  constructor(
    private readonly packageId: PackageId,
    private readonly version: LanguageVersion,
    bytes: Uint8Array,
    private readonly context: string,
  ) {
    this.flat = version !== '2.1';
    const r = new WireReader(bytes, context);
    this.r = r;
    const moduleRanges: Range[] = [];
    const dnameRanges: Range[] = [];
    const typeRanges: Range[] = [];
    const kindRanges: Range[] = [];
    let metadataRange: Range | undefined;
    let importsRange: Range | undefined;
    let importsReason = false;
    const sub = (): Range => {
      const end = r.len();
      const range: Range = [r.pos, end];
      r.pos = end;
      return range;
    };
    while (r.pos < bytes.length) {
      switch (r.tag()) {
        case 1:
          moduleRanges.push(sub());
          break;
        case 2:
          this.strings.push(r.string());
          break;
        case 3:
          dnameRanges.push(sub());
          break;
        case 4:
          metadataRange = sub();
          break;
        case 5:
          typeRanges.push(sub());
          break;
        case 6:
          kindRanges.push(sub());
          break;
        case 7:
          this.exprRanges.push(sub());
          break;
        case 8:
          r.string();
          importsReason = true;
          importsRange = undefined;
          break;
        case 9:
          importsRange = sub();
          importsReason = false;
          break;
        default:
          r.skip();
      }
    }
    this.nameChecks = new Uint8Array(this.strings.length);

    for (const [start, end] of dnameRanges) this.dnames.push(this.dottedNameEntry(start, end));
    if (metadataRange === undefined) this.fail(`Package.metadata is required in Daml-LF ${version}`);
    const metadata = this.metadata(metadataRange);
    if ((importsRange !== undefined || importsReason) && !this.flat)
      this.fail(`explicit package imports are not supported by Daml-LF ${version}`);
    if (importsRange !== undefined) this.imports = this.packageImports(importsRange);
    if (kindRanges.length > 0 && !this.flat)
      this.fail(`interned kinds are not supported by Daml-LF ${version}`);
    this.decodeTable(kindRanges, this.kinds, (end) => this.kindEntry(end));
    this.decodeTable(typeRanges, this.types, (end) => this.typeEntry(end));

    const names: string[] = [];
    const byName = new Map<string, Range>();
    for (const range of moduleRanges) {
      const name = this.moduleName(range).join('.');
      if (byName.has(name)) this.fail(`collision on module name ${name}`);
      byName.set(name, range);
      names.push(name);
    }
    this.package = new DecodedPackage(packageId, version, metadata, names, this.imports, byName, this);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Errors and interned strings

  private fail(message: string): never {
    throw new WeftError(DamlLfErrors.DAML_LF_MALFORMED, `${this.where()}: ${message}`, {
      packageId: this.packageId,
    });
  }

  private unknownEnum(what: string, value: number): never {
    throw new WeftError(
      DamlLfErrors.DAML_LF_UNKNOWN_ENUM,
      `${this.where()}: unknown ${what} value ${value}`,
      {
        packageId: this.packageId,
      },
    );
  }

  private unsupported(what: string): never {
    this.fail(`${what} is not supported by Daml-LF ${this.version}`);
  }

  private where(): string {
    return this.currentModule === undefined
      ? this.context
      : `${this.context}, module ${this.currentModule.module.join('.')}`;
  }

  private nest(): void {
    if (++this.depth > MAX_NESTING)
      this.fail(`expressions or types nested deeper than ${MAX_NESTING} levels`);
  }

  private str(i: number): string {
    const s = this.strings[i];
    if (s === undefined) this.fail(`invalid interned string index ${i}`);
    return s;
  }

  /** An interned string that must be a Daml-LF identifier (variable, field, choice… name). */
  private name(i: number): string {
    const s = this.str(i);
    const check = this.nameChecks[i];
    if (check === 1) return s;
    if (check === 0 && s.length <= MAX_NAME_LENGTH && NAME_RE.test(s)) {
      this.nameChecks[i] = 1;
      return s;
    }
    this.nameChecks[i] = 2;
    return this.fail(`invalid name ${JSON.stringify(s.slice(0, 80))}`);
  }

  private dname(i: number): DottedName {
    const d = this.dnames[i];
    if (d === undefined) this.fail(`invalid dotted name index ${i}`);
    return d;
  }

  private decodeTable<T>(ranges: readonly Range[], into: T[], entry: (end: number) => T): void {
    const r = this.r;
    for (let i = 0; i < ranges.length; i++) {
      const [start, end] = ranges[i]!;
      this.currentEntry = i;
      r.pos = start;
      into.push(entry(end));
    }
    this.currentEntry = NONE;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Package-level tables

  private dottedNameEntry(start: number, end: number): DottedName {
    const r = this.r;
    r.pos = start;
    const ids: number[] = [];
    while (r.pos < end) {
      if (r.tag() === 1) r.repeatedIndex(ids);
      else r.skip();
    }
    r.done(end);
    if (ids.length === 0) this.fail('empty dotted name');
    const segments = ids.map((i) => this.name(i));
    if (segments.reduce((n, s) => n + s.length + 1, -1) > MAX_NAME_LENGTH) this.fail('dotted name too long');
    return segments;
  }

  private metadata([start, end]: Range): PackageMetadata {
    const r = this.r;
    r.pos = start;
    let name = 0;
    let version = 0;
    let upgraded: string | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          name = r.index();
          break;
        case 2:
          version = r.index();
          break;
        case 3: {
          const e = r.len();
          let id = 0;
          while (r.pos < e) {
            if (r.tag() === 1) id = r.index();
            else r.skip();
          }
          r.done(e);
          upgraded = this.packageIdString(this.str(id));
          break;
        }
        default:
          r.skip();
      }
    }
    r.done(end);
    const nameText = this.str(name);
    const versionText = this.str(version);
    if (!PACKAGE_NAME_RE.test(nameText)) this.fail(`invalid package name ${JSON.stringify(nameText)}`);
    if (versionText.length > 255 || !PACKAGE_VERSION_RE.test(versionText))
      this.fail(`invalid package version ${JSON.stringify(versionText)}`);
    return upgraded === undefined
      ? { name: nameText, version: versionText }
      : { name: nameText, version: versionText, upgradedPackageId: upgraded };
  }

  private packageIdString(s: string): PackageId {
    if (!PACKAGE_ID_RE.test(s)) this.fail(`invalid package id ${JSON.stringify(s.slice(0, 80))}`);
    return s;
  }

  private packageImports([start, end]: Range): string[] {
    const r = this.r;
    r.pos = start;
    const ids: string[] = [];
    while (r.pos < end) {
      if (r.tag() === 1) ids.push(this.packageIdString(r.string()));
      else r.skip();
    }
    r.done(end);
    return ids;
  }

  private moduleName([start, end]: Range): DottedName {
    const r = this.r;
    r.pos = start;
    let name = 0;
    while (r.pos < end) {
      if (r.tag() === 1) name = r.index();
      else r.skip();
    }
    r.done(end);
    return this.dname(name);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Kinds

  private kindEntry(end: number): Kind {
    return this.kind(end, true);
  }

  private kind(end: number, tableTop = false): Kind {
    const r = this.r;
    this.nest();
    let k: Kind | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          r.skip();
          k = STAR;
          break;
        case 2: {
          const e = r.len();
          k = this.kindArrow(e);
          break;
        }
        case 3:
          r.skip();
          k = NAT;
          break;
        case 4: {
          if (!this.flat) this.unsupported('interned kinds');
          if (tableTop) this.fail('interned kind entry refers to another interned kind');
          const i = r.index();
          // While the table decodes, only earlier entries exist, so forward references are undefined too.
          const found = this.kinds[i];
          if (found === undefined) this.fail(`invalid interned kind index ${i}`);
          k = found;
          break;
        }
        default:
          r.skip();
      }
    }
    r.done(end);
    if (k === undefined) this.fail('Kind has no case set');
    this.depth--;
    return k;
  }

  private kindArrow(end: number): Kind {
    const r = this.r;
    const params: Kind[] = [];
    let result: Kind | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          params.push(this.kind(r.len()));
          break;
        case 2:
          result = this.kind(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    this.arity(params.length, 'Kind.Arrow.params');
    if (result === undefined) this.fail('Kind.Arrow.result is missing');
    let k = result;
    for (let i = params.length - 1; i >= 0; i--) k = { tag: 'Arrow', param: params[i]!, result: k };
    return k;
  }

  /** Binder lists must be non-empty, and singletons in flat archives. */
  private arity(n: number, what: string): void {
    if (n === 0) this.fail(`unexpected empty ${what}`);
    if (this.flat && n !== 1) this.fail(`${what} must have exactly one element in Daml-LF ${this.version}`);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Types

  private typeEntry(end: number): Type {
    return this.typeMessage(end, true);
  }

  /** A type outside the interning table: always a reference into it. */
  private typeRef(end: number): Type {
    const r = this.r;
    let t: Type | undefined;
    while (r.pos < end) {
      const f = r.tag();
      if (f === 8) {
        const i = r.index();
        t = this.types[i];
        if (t === undefined) this.fail(`invalid interned type index ${i}`);
      } else if (f >= 1 && f <= 9) {
        this.fail(`Type case ${f} is not allowed outside the type interning table`);
      } else r.skip();
    }
    r.done(end);
    if (t === undefined) this.fail('Type has no case set');
    return t;
  }

  private typeMessage(end: number, tableTop = false): Type {
    const r = this.r;
    this.nest();
    let t: Type | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          t = this.typeVar(r.len());
          break;
        case 2:
          t = this.typeCon(r.len());
          break;
        case 3:
          t = this.typeBuiltin(r.len());
          break;
        case 4:
          t = this.typeForall(r.len());
          break;
        case 5:
          t = this.typeStruct(r.len());
          break;
        case 6: {
          const n = r.sint64();
          if (n < 0n || n > BigInt(MAX_NUMERIC_SCALE))
            this.fail(`TNat must be between 0 and ${MAX_NUMERIC_SCALE}, found ${n}`);
          t = { tag: 'Nat', value: Number(n) };
          break;
        }
        case 7:
          t = this.typeSyn(r.len());
          break;
        case 8: {
          if (tableTop) this.fail('interned type entry refers to another interned type');
          const i = r.index();
          // Inside the table only earlier entries exist yet, so `types[i]` is undefined for forward references.
          t = this.types[i];
          if (t === undefined) this.fail(`invalid interned type index ${i}`);
          break;
        }
        case 9:
          if (!this.flat) this.unsupported('Type.TApp');
          t = this.typeApp(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (t === undefined) this.fail('Type has no case set');
    this.depth--;
    return t;
  }

  /** Reads `repeated Type args` (field 2) and the head fields of Var/Con/Builtin/Syn messages. */
  private typeArgs(
    end: number,
    head: (field: number) => void,
    flatForbidsArgs: boolean,
    what: string,
  ): Type[] {
    const r = this.r;
    const args: Type[] = [];
    while (r.pos < end) {
      const f = r.tag();
      if (f === 2) args.push(this.typeMessage(r.len()));
      else head(f);
    }
    r.done(end);
    if (flatForbidsArgs && this.flat && args.length > 0)
      this.fail(`${what} arguments are not allowed in Daml-LF ${this.version} (use TApp)`);
    return args;
  }

  private typeVar(end: number): Type {
    const r = this.r;
    let name = 0;
    const args = this.typeArgs(
      end,
      (f) => {
        if (f === 3) name = r.index();
        else r.skip();
      },
      true,
      'Type.Var',
    );
    return { tag: 'Var', name: this.name(name), args };
  }

  private typeCon(end: number): Type {
    const r = this.r;
    let tycon: Identifier | undefined;
    const args = this.typeArgs(
      end,
      (f) => {
        if (f === 1) tycon = this.identifier(r.len());
        else r.skip();
      },
      true,
      'Type.Con',
    );
    if (tycon === undefined) this.fail('Type.Con.tycon is missing');
    return { tag: 'Con', tycon, args };
  }

  private typeSyn(end: number): Type {
    const r = this.r;
    let tysyn: Identifier | undefined;
    const args = this.typeArgs(
      end,
      (f) => {
        if (f === 1) tysyn = this.identifier(r.len());
        else r.skip();
      },
      false,
      'Type.Syn',
    );
    if (tysyn === undefined) this.fail('Type.Syn.tysyn is missing');
    return { tag: 'Syn', tysyn, args };
  }

  private typeBuiltin(end: number): Type {
    const r = this.r;
    let code = 0;
    const args = this.typeArgs(
      end,
      (f) => {
        if (f === 1) code = r.int32();
        else r.skip();
      },
      true,
      'Type.Builtin',
    );
    const builtin = BUILTIN_TYPES.get(code);
    if (builtin === undefined) {
      const dev = UNSUPPORTED_BUILTIN_TYPES.get(code);
      if (dev !== undefined) this.unsupported(`builtin type ${dev}`);
      this.unknownEnum('BuiltinType', code);
    }
    return { tag: 'Builtin', builtin, args };
  }

  private typeForall(end: number): Type {
    const r = this.r;
    const vars: TypeVarWithKind[] = [];
    let body: Type | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          vars.push(this.typeVarWithKind(r.len()));
          break;
        case 2:
          body = this.typeMessage(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    this.arity(vars.length, 'Type.Forall.vars');
    if (body === undefined) this.fail('Type.Forall.body is missing');
    // Canonical form: `forall a. forall b. t` is stored as `forall a b. t`.
    return body.tag === 'Forall'
      ? { tag: 'Forall', vars: [...vars, ...body.vars], body: body.body }
      : { tag: 'Forall', vars, body };
  }

  private typeStruct(end: number): Type {
    const r = this.r;
    const fields: FieldWithType[] = [];
    while (r.pos < end) {
      if (r.tag() === 1) fields.push(this.fieldWithType(r.len(), true));
      else r.skip();
    }
    r.done(end);
    if (fields.length === 0) this.fail('unexpected empty Type.Struct.fields');
    const seen = new Set<string>();
    for (const f of fields) {
      if (seen.has(f.field)) this.fail(`TStruct: duplicate field ${f.field}`);
      seen.add(f.field);
    }
    return { tag: 'Struct', fields };
  }

  private typeApp(end: number): Type {
    const r = this.r;
    let lhs: Type | undefined;
    let rhs: Type | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          lhs = this.typeMessage(r.len());
          break;
        case 2:
          rhs = this.typeMessage(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (lhs === undefined || rhs === undefined) this.fail('Type.TApp needs both lhs and rhs');
    switch (lhs.tag) {
      case 'Var':
        return { tag: 'Var', name: lhs.name, args: [...lhs.args, rhs] };
      case 'Con':
        return { tag: 'Con', tycon: lhs.tycon, args: [...lhs.args, rhs] };
      case 'Builtin':
        return { tag: 'Builtin', builtin: lhs.builtin, args: [...lhs.args, rhs] };
      default:
        return this.fail(`Type.TApp applies a ${lhs.tag} type, which takes no arguments`);
    }
  }

  private typeVarWithKind(end: number): TypeVarWithKind {
    const r = this.r;
    let name = 0;
    let kind: Kind | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 3:
          name = r.index();
          break;
        case 2:
          kind = this.kind(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (kind === undefined) this.fail('TypeVarWithKind.kind is missing');
    return { name: this.name(name), kind };
  }

  /** `FieldWithType` (field_interned_str = 3, type = 2); `inTable` for struct types inside the table. */
  private fieldWithType(end: number, inTable: boolean): FieldWithType {
    const r = this.r;
    let field = 0;
    let type: Type | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 3:
          field = r.index();
          break;
        case 2: {
          const e = r.len();
          type = inTable ? this.typeMessage(e) : this.typeRef(e);
          break;
        }
        default:
          r.skip();
      }
    }
    r.done(end);
    if (type === undefined) this.fail('FieldWithType.type is missing');
    return { field: this.name(field), type };
  }

  // ------------------------------------------------------------------------------------------------------------
  // References

  private moduleRef(end: number): ModuleRef {
    const r = this.r;
    let slot: number | undefined;
    let moduleName = 0;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          slot = this.packageSlot(r.len());
          break;
        case 2:
          moduleName = r.index();
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (slot === undefined) this.fail('ModuleId.package_id is missing');
    if (moduleName >= this.dnames.length) this.fail(`invalid dotted name index ${moduleName}`);
    // References repeat a lot: cache them by (package slot, module name index) without building strings.
    const key = (slot + 1) * this.dnames.length + moduleName;
    let ref = this.moduleRefs.get(key);
    if (ref === undefined) {
      ref = { packageId: this.resolvePackageSlot(slot), module: this.dname(moduleName) };
      this.moduleRefs.set(key, ref);
    }
    return ref;
  }

  /** `SelfOrImportedPackageId` as a number: -1 self, 2i an interned package-id string, 2i+1 an import. */
  private packageSlot(end: number): number {
    const r = this.r;
    let slot: number | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          r.skip();
          slot = -1;
          break;
        case 3:
          slot = 2 * r.index();
          break;
        case 4:
          slot = 2 * r.index() + 1;
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (slot === undefined) this.fail('SelfOrImportedPackageId has no case set');
    return slot;
  }

  private resolvePackageSlot(slot: number): PackageId {
    if (slot === -1) return this.packageId;
    const i = slot >>> 1;
    if ((slot & 1) === 0) {
      const s = this.packageIdString(this.str(i));
      if (this.flat && !STABLE_PACKAGE_IDS.has(s))
        this.fail(`package ${s} must be referenced through the import table in Daml-LF ${this.version}`);
      return s;
    }
    if (this.imports === undefined) this.fail('package_import_id used but the package has no import table');
    const id = this.imports[i];
    if (id === undefined) this.fail(`invalid imported package index ${i}`);
    return id;
  }

  /** `TypeConId`, `TypeSynId` and `ValueId` share one shape: module = 1, name_interned_dname = 2. */
  private identifier(end: number): Identifier {
    const r = this.r;
    let module: ModuleRef | undefined;
    let name = 0;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          module = this.moduleRef(r.len());
          break;
        case 2:
          name = r.index();
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (module === undefined) this.fail('identifier without module');
    let byName = this.refs.get(module);
    if (byName === undefined) {
      byName = new Map();
      this.refs.set(module, byName);
    }
    let id = byName.get(name);
    if (id === undefined) {
      id = { packageId: module.packageId, module: module.module, name: this.dname(name) };
      byName.set(name, id);
    }
    return id;
  }

  private location(end: number): Location | undefined {
    const r = this.r;
    // Inside an interned expression the enclosing module depends on the user (see `Location.module`).
    let module: ModuleRef | undefined = this.currentEntry === NONE ? this.currentModule : undefined;
    let range: [number, number, number, number] | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          module = this.moduleRef(r.len());
          break;
        case 2: {
          const e = r.len();
          range = [0, 0, 0, 0];
          while (r.pos < e) {
            const f = r.tag();
            if (f >= 1 && f <= 4) range[f - 1] = r.int32();
            else r.skip();
          }
          r.done(e);
          break;
        }
        default:
          r.skip();
      }
    }
    r.done(end);
    if (range === undefined) return undefined;
    const [startLine, startCol, endLine, endCol] = range;
    return module === undefined
      ? { startLine, startCol, endLine, endCol }
      : { module, startLine, startCol, endLine, endCol };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Modules and definitions

  module(range: Range): Module {
    const saved = this.r.pos;
    const name = this.moduleName(range);
    this.currentModule = { packageId: this.packageId, module: name };
    this.depth = 0;
    try {
      return this.moduleBody(name, range);
    } finally {
      this.currentModule = undefined;
      this.r.pos = saved;
    }
  }

  private moduleBody(name: DottedName, [start, end]: Range): Module {
    const r = this.r;
    const synonyms = new Map<string, DefTypeSyn>();
    const dataTypes = new Map<string, DefDataType>();
    const values = new Map<string, DefValue>();
    const templates = new Map<string, DefTemplate>();
    const exceptions = new Map<string, DefException>();
    const interfaces = new Map<string, DefInterface>();
    const definitions = new Set<string>();
    const define = <T extends { name: DottedName } | { tycon: DottedName }>(
      into: Map<string, T>,
      def: T,
      shared: boolean,
      kind: string,
    ): void => {
      const key = ('name' in def ? def.name : def.tycon).join('.');
      if (into.has(key) || (shared && definitions.has(key))) this.fail(`collision on ${kind} name ${key}`);
      if (shared) definitions.add(key);
      into.set(key, def);
    };
    let flags = false;
    r.pos = start;
    while (r.pos < end) {
      switch (r.tag()) {
        case 2:
          flags = this.featureFlags(r.len());
          break;
        case 3:
          define(synonyms, this.defTypeSyn(r.len()), true, 'definition');
          break;
        case 4:
          define(dataTypes, this.defDataType(r.len()), true, 'definition');
          break;
        case 5:
          define(values, this.defValue(r.len()), true, 'definition');
          break;
        case 6:
          define(templates, this.defTemplate(r.len()), false, 'template');
          break;
        case 7:
          define(exceptions, this.defException(r.len()), false, 'exception');
          break;
        case 8:
          define(interfaces, this.defInterface(r.len()), false, 'interface');
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    // Canton refuses modules without the three (long mandatory) feature flags set.
    if (!flags) this.fail('deprecated feature flag settings detected, refusing to parse package');
    for (const k of templates.keys())
      if (exceptions.has(k) || interfaces.has(k))
        this.fail(`collision between template and exception/interface ${k}`);
    for (const k of exceptions.keys())
      if (interfaces.has(k)) this.fail(`collision between exception and interface ${k}`);
    return { name, synonyms, dataTypes, values, templates, exceptions, interfaces };
  }

  private featureFlags(end: number): boolean {
    const r = this.r;
    const flags = [false, false, false];
    while (r.pos < end) {
      const f = r.tag();
      if (f >= 1 && f <= 3) flags[f - 1] = r.bool();
      else r.skip();
    }
    r.done(end);
    return flags[0]! && flags[1]! && flags[2]!;
  }

  private typeVarsAndLocation(
    end: number,
    fields: { name: number; params: number; location: number },
    other: (field: number) => void,
  ): { name: number; params: TypeVarWithKind[]; location: Location | undefined } {
    const r = this.r;
    let name = 0;
    const params: TypeVarWithKind[] = [];
    let location: Location | undefined;
    while (r.pos < end) {
      const f = r.tag();
      if (f === fields.name) name = r.index();
      else if (f === fields.params) params.push(this.typeVarWithKind(r.len()));
      else if (f === fields.location) location = this.location(r.len());
      else other(f);
    }
    r.done(end);
    return { name, params, location };
  }

  private defTypeSyn(end: number): DefTypeSyn {
    const r = this.r;
    let type: Type | undefined;
    const h = this.typeVarsAndLocation(end, { name: 2, params: 3, location: 1 }, (f) => {
      if (f === 4) type = this.typeRef(r.len());
      else r.skip();
    });
    const name = this.dname(h.name);
    if (type === undefined) this.fail(`type synonym ${name.join('.')} has no type`);
    return withLocation({ name, params: h.params, type }, h.location);
  }

  private defDataType(end: number): DefDataType {
    const r = this.r;
    let serializable = false;
    let cons: DataCons | undefined;
    const fieldsOf = (e: number): FieldWithType[] => {
      const fields: FieldWithType[] = [];
      while (r.pos < e) {
        if (r.tag() === 1) fields.push(this.fieldWithType(r.len(), false));
        else r.skip();
      }
      r.done(e);
      return fields;
    };
    const h = this.typeVarsAndLocation(end, { name: 2, params: 3, location: 1 }, (f) => {
      switch (f) {
        case 4:
          serializable = r.bool();
          break;
        case 5:
          cons = { tag: 'Record', fields: fieldsOf(r.len()) };
          break;
        case 6:
          cons = { tag: 'Variant', variants: fieldsOf(r.len()) };
          break;
        case 7: {
          const e = r.len();
          const ids: number[] = [];
          while (r.pos < e) {
            if (r.tag() === 2) r.repeatedIndex(ids);
            else r.skip();
          }
          r.done(e);
          cons = { tag: 'Enum', constructors: ids.map((i) => this.name(i)) };
          break;
        }
        case 8:
          r.skip();
          cons = { tag: 'Interface' };
          break;
        default:
          r.skip();
      }
    });
    const name = this.dname(h.name);
    if (cons === undefined) this.fail(`data type ${name.join('.')} has no constructors case set`);
    if (cons.tag === 'Enum' && h.params.length > 0)
      this.fail(`enum type ${name.join('.')} has type parameters`);
    return withLocation({ name, params: h.params, serializable, cons }, h.location);
  }

  private defValue(end: number): DefValue {
    const r = this.r;
    let name: DottedName | undefined;
    let type: Type | undefined;
    let expr: Expr | undefined;
    let location: Location | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          location = this.location(r.len());
          break;
        case 2: {
          const e = r.len();
          let n = 0;
          while (r.pos < e) {
            const f = r.tag();
            if (f === 1) n = r.index();
            else if (f === 2) type = this.typeRef(r.len());
            else r.skip();
          }
          r.done(e);
          name = this.dname(n);
          break;
        }
        case 3:
          expr = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (name === undefined || type === undefined) this.fail('DefValue.name_with_type is missing');
    if (expr === undefined) this.fail(`value ${name.join('.')} has no expression`);
    return withLocation({ name, type, expr }, location);
  }

  private defTemplate(end: number): DefTemplate {
    const r = this.r;
    let tycon = 0;
    let param = 0;
    let precond: Expr = TRUE;
    let signatories: Expr | undefined;
    let observers: Expr | undefined;
    let location: Location | undefined;
    const choices = new Map<string, TemplateChoice>();
    const implementations: TemplateImplements[] = [];
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          tycon = r.index();
          break;
        case 2:
          param = r.index();
          break;
        case 3:
          precond = this.expr(r.len());
          break;
        case 4:
          signatories = this.expr(r.len());
          break;
        case 6: {
          const c = this.choice(r.len());
          if (choices.has(c.name)) this.fail(`collision on choice name ${c.name}`);
          choices.set(c.name, c);
          break;
        }
        case 7:
          observers = this.expr(r.len());
          break;
        case 8:
          location = this.location(r.len());
          break;
        case 9:
          this.unsupported('contract keys (DefTemplate.key)');
          break;
        case 10:
          implementations.push(this.templateImplements(r.len()));
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    const name = this.dname(tycon);
    if (signatories === undefined) this.fail(`template ${name.join('.')} has no signatories`);
    if (observers === undefined) this.fail(`template ${name.join('.')} has no observers`);
    const seen = new Set<Identifier>();
    for (const impl of implementations) {
      if (seen.has(impl.iface)) this.fail(`repeated interface implementation ${showId(impl.iface)}`);
      seen.add(impl.iface);
    }
    return withLocation(
      {
        tycon: name,
        param: this.name(param),
        precond,
        signatories,
        observers,
        choices,
        implements: implementations,
      },
      location,
    );
  }

  private templateImplements(end: number): TemplateImplements {
    const r = this.r;
    let iface: Identifier | undefined;
    let location: Location | undefined;
    let view: Expr | undefined;
    const methods = new Map<string, Expr>();
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          iface = this.identifier(r.len());
          break;
        case 2: {
          const e = r.len();
          while (r.pos < e) {
            const f = r.tag();
            if (f === 1) {
              const me = r.len();
              let mname = 0;
              let value: Expr | undefined;
              while (r.pos < me) {
                const g = r.tag();
                if (g === 1) mname = r.index();
                else if (g === 2) value = this.expr(r.len());
                else r.skip();
              }
              r.done(me);
              const method = this.name(mname);
              if (value === undefined) this.fail(`interface method ${method} has no implementation`);
              if (methods.has(method)) this.fail(`collision on interface method name ${method}`);
              methods.set(method, value);
            } else if (f === 2) view = this.expr(r.len());
            else r.skip();
          }
          r.done(e);
          break;
        }
        case 3:
          location = this.location(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (iface === undefined) this.fail('DefTemplate.Implements.interface is missing');
    if (view === undefined) this.fail(`implementation of ${showId(iface)} has no view`);
    return withLocation({ iface, body: { methods, view } }, location);
  }

  private choice(end: number): TemplateChoice {
    const r = this.r;
    let name = 0;
    let consuming = false;
    let controllers: Expr | undefined;
    let observers: Expr | undefined;
    let argBinder: VarWithType | undefined;
    let returnType: Type | undefined;
    let update: Expr | undefined;
    let selfBinder = 0;
    let location: Location | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          location = this.location(r.len());
          break;
        case 2:
          name = r.index();
          break;
        case 3:
          consuming = r.bool();
          break;
        case 4:
          controllers = this.expr(r.len());
          break;
        case 5:
          observers = this.expr(r.len());
          break;
        case 6:
          argBinder = this.varWithType(r.len());
          break;
        case 8:
          returnType = this.typeRef(r.len());
          break;
        case 9:
          update = this.expr(r.len());
          break;
        case 10:
          selfBinder = r.index();
          break;
        case 1001:
          this.unsupported('choice authorizers');
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    const choiceName = this.name(name);
    if (controllers === undefined || observers === undefined || update === undefined)
      this.fail(`choice ${choiceName} lacks controllers, observers or update`);
    if (argBinder === undefined || returnType === undefined)
      this.fail(`choice ${choiceName} lacks its argument binder or return type`);
    return withLocation(
      {
        name: choiceName,
        consuming,
        controllers,
        observers,
        selfBinder: this.name(selfBinder),
        argBinder,
        returnType,
        update,
      },
      location,
    );
  }

  private defInterface(end: number): DefInterface {
    const r = this.r;
    let location: Location | undefined;
    let tycon = 0;
    let param = 0;
    let view: Type | undefined;
    const methods = new Map<string, InterfaceMethod>();
    const choices = new Map<string, TemplateChoice>();
    const requires: Identifier[] = [];
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          location = this.location(r.len());
          break;
        case 2:
          tycon = r.index();
          break;
        case 3: {
          const m = this.interfaceMethod(r.len());
          if (methods.has(m.name)) this.fail(`collision on interface method name ${m.name}`);
          methods.set(m.name, m);
          break;
        }
        case 4:
          param = r.index();
          break;
        case 5: {
          const c = this.choice(r.len());
          if (choices.has(c.name)) this.fail(`collision on interface choice name ${c.name}`);
          choices.set(c.name, c);
          break;
        }
        case 6:
          view = this.typeRef(r.len());
          break;
        case 7: {
          const id = this.identifier(r.len());
          if (requires.includes(id)) this.fail(`repeated required interface ${showId(id)}`);
          requires.push(id);
          break;
        }
        default:
          r.skip();
      }
    }
    r.done(end);
    const name = this.dname(tycon);
    if (view === undefined) this.fail(`interface ${name.join('.')} has no view type`);
    return withLocation({ tycon: name, param: this.name(param), methods, choices, view, requires }, location);
  }

  private interfaceMethod(end: number): InterfaceMethod {
    const r = this.r;
    let location: Location | undefined;
    let name = 0;
    let type: Type | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          location = this.location(r.len());
          break;
        case 2:
          name = r.index();
          break;
        case 3:
          type = this.typeRef(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    const methodName = this.name(name);
    if (type === undefined) this.fail(`interface method ${methodName} has no type`);
    return withLocation({ name: methodName, type }, location);
  }

  private defException(end: number): DefException {
    const r = this.r;
    let name = 0;
    let location: Location | undefined;
    let message: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          name = r.index();
          break;
        case 2:
          location = this.location(r.len());
          break;
        case 3:
          message = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    const dn = this.dname(name);
    if (message === undefined) this.fail(`exception ${dn.join('.')} has no message`);
    return withLocation({ name: dn, message }, location);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Expressions

  private varWithType(end: number): VarWithType {
    const r = this.r;
    let name = 0;
    let type: Type | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 3:
          name = r.index();
          break;
        case 2:
          type = this.typeRef(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (type === undefined) this.fail('VarWithType.type is missing');
    return { name: this.name(name), type };
  }

  private fieldWithExpr(end: number): FieldWithExpr {
    const r = this.r;
    let field = 0;
    let expr: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 3:
          field = r.index();
          break;
        case 2:
          expr = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (expr === undefined) this.fail('FieldWithExpr.expr is missing');
    return { field: this.name(field), expr };
  }

  private binding(end: number): Binding {
    const r = this.r;
    let binder: VarWithType | undefined;
    let bound: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          binder = this.varWithType(r.len());
          break;
        case 2:
          bound = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (binder === undefined || bound === undefined)
      this.fail('Binding lacks its binder or bound expression');
    return { binder: binder.name, type: binder.type, bound };
  }

  /** Decodes an `Expr` message ending at `end`. */
  private expr(end: number): Expr {
    const r = this.r;
    this.nest();
    let loc: Location | undefined;
    let e: Expr | undefined;
    let unknown = 0;
    while (r.pos < end) {
      const f = r.tag();
      if (f === 1) {
        loc = this.location(r.len());
        continue;
      }
      const decoded = this.exprCase(f);
      if (decoded === undefined) unknown = f;
      else e = decoded;
    }
    r.done(end);
    if (e === undefined)
      this.fail(unknown === 0 ? 'Expr has no case set' : `Expr has no known case (unknown field ${unknown})`);
    this.depth--;
    return loc === undefined ? e : { tag: 'Loc', loc, expr: e };
  }

  /** One case of `Expr.Sum`; undefined (after skipping it) for an unknown field. */
  private exprCase(f: number): Expr | undefined {
    const r = this.r;
    switch (f) {
      case 2:
        return { tag: 'Var', name: this.name(r.index()) };
      case 3:
        return { tag: 'Val', ref: this.identifier(r.len()) };
      case 4: {
        const code = r.int32();
        const fn = builtinFunctionByNumber.get(code);
        if (fn === undefined || code === 73) {
          const unsupported = UNSUPPORTED_BUILTIN_FUNCTIONS.get(code);
          if (unsupported !== undefined) this.unsupported(`builtin ${unsupported}`);
          this.unknownEnum('BuiltinFunction', code);
        }
        return { tag: 'Builtin', fn };
      }
      case 5:
        return { tag: 'BuiltinCon', con: this.builtinCon(r.int32()) };
      case 6:
        return { tag: 'BuiltinLit', lit: this.builtinLit(r.len()) };
      case 7:
        return this.recCon(r.len());
      case 8:
        return this.recProj(r.len());
      case 9:
        return this.recUpd(r.len());
      case 10:
        return this.variantCon(r.len());
      case 11:
        return this.enumCon(r.len());
      case 12: {
        const end = r.len();
        const fields: FieldWithExpr[] = [];
        while (r.pos < end) {
          if (r.tag() === 1) fields.push(this.fieldWithExpr(r.len()));
          else r.skip();
        }
        r.done(end);
        return { tag: 'StructCon', fields };
      }
      case 13: {
        const m = this.fieldAndExprs(r.len(), 1, 2, 0);
        return { tag: 'StructProj', field: m.field, struct: m.a };
      }
      case 14: {
        const m = this.fieldAndExprs(r.len(), 1, 2, 3);
        return { tag: 'StructUpd', field: m.field, struct: m.a, update: m.b! };
      }
      case 15:
        return this.app(r.len());
      case 16:
        return this.tyApp(r.len());
      case 17:
        return this.abs(r.len());
      case 18:
        return this.tyAbs(r.len());
      case 19:
        return this.caseExpr(r.len());
      case 20: {
        const block = this.block(r.len());
        if (block.bindings.length === 0) this.fail('unexpected empty let bindings');
        return { tag: 'Let', bindings: block.bindings, body: block.body };
      }
      case 21:
        return { tag: 'Nil', type: this.typeField(r.len(), 1, 'Nil.type') };
      case 22:
        return this.cons(r.len());
      case 23:
        return { tag: 'Update', update: this.update(r.len()) };
      case 25:
        return { tag: 'OptionalNone', type: this.typeField(r.len(), 1, 'OptionalNone.type') };
      case 26: {
        const m = this.typeAndExpr(r.len(), 'OptionalSome');
        return { tag: 'OptionalSome', type: m.type, value: m.expr };
      }
      case 27: {
        const m = this.typeAndExpr(r.len(), 'ToAny');
        return { tag: 'ToAny', type: m.type, expr: m.expr };
      }
      case 28: {
        const m = this.typeAndExpr(r.len(), 'FromAny');
        return { tag: 'FromAny', type: m.type, expr: m.expr };
      }
      case 29:
        return { tag: 'TypeRep', type: this.typeRef(r.len()) };
      case 30: {
        const m = this.typeAndExpr(r.len(), 'ToAnyException');
        return { tag: 'ToAnyException', type: m.type, expr: m.expr };
      }
      case 31: {
        const m = this.typeAndExpr(r.len(), 'FromAnyException');
        return { tag: 'FromAnyException', type: m.type, expr: m.expr };
      }
      case 32:
        return this.throwExpr(r.len());
      case 33: {
        const m = this.twoIdsAndExprs(r.len(), 'ToInterface', false);
        return { tag: 'ToInterface', iface: m.id1, template: m.id2, expr: m.a };
      }
      case 34: {
        const m = this.twoIdsAndExprs(r.len(), 'FromInterface', false);
        return { tag: 'FromInterface', iface: m.id1, template: m.id2, expr: m.a };
      }
      case 35: {
        const end = r.len();
        let iface: Identifier | undefined;
        let method = 0;
        let expr: Expr | undefined;
        while (r.pos < end) {
          switch (r.tag()) {
            case 1:
              iface = this.identifier(r.len());
              break;
            case 2:
              method = r.index();
              break;
            case 3:
              expr = this.expr(r.len());
              break;
            default:
              r.skip();
          }
        }
        r.done(end);
        if (iface === undefined || expr === undefined)
          this.fail('CallInterface lacks interface or expression');
        return { tag: 'CallInterface', iface, method: this.name(method), expr };
      }
      case 36: {
        const m = this.idAndExpr(r.len(), 'SignatoryInterface');
        return { tag: 'SignatoryInterface', iface: m.id, expr: m.expr };
      }
      case 37: {
        const m = this.idAndExpr(r.len(), 'ObserverInterface');
        return { tag: 'ObserverInterface', iface: m.id, expr: m.expr };
      }
      case 38: {
        const m = this.idAndExpr(r.len(), 'ViewInterface');
        return { tag: 'ViewInterface', iface: m.id, expr: m.expr };
      }
      case 39: {
        if (this.flat) return this.unsupported('Expr.unsafe_from_interface');
        const m = this.twoIdsAndExprs(r.len(), 'UnsafeFromInterface', true);
        return { tag: 'UnsafeFromInterface', iface: m.id1, template: m.id2, contractId: m.a, expr: m.b! };
      }
      case 40: {
        const m = this.idAndExpr(r.len(), 'InterfaceTemplateTypeRep');
        return { tag: 'InterfaceTemplateTypeRep', iface: m.id, expr: m.expr };
      }
      case 41: {
        const m = this.twoIdsAndExprs(r.len(), 'ToRequiredInterface', false);
        return { tag: 'ToRequiredInterface', requiredIface: m.id1, requiringIface: m.id2, expr: m.a };
      }
      case 42: {
        const m = this.twoIdsAndExprs(r.len(), 'FromRequiredInterface', false);
        return { tag: 'FromRequiredInterface', requiredIface: m.id1, requiringIface: m.id2, expr: m.a };
      }
      case 43: {
        const m = this.twoIdsAndExprs(r.len(), 'UnsafeFromRequiredInterface', true);
        return {
          tag: 'UnsafeFromRequiredInterface',
          requiredIface: m.id1,
          requiringIface: m.id2,
          contractId: m.a,
          expr: m.b!,
        };
      }
      case 44:
        if (!this.flat) this.unsupported('Expr.interned_expr');
        return this.internedExpr(r.index());
      case 1001:
        return this.unsupported('Expr.choice_controller');
      case 1002:
        return this.unsupported('Expr.choice_observer');
      case 9999:
        return this.unsupported('Expr.experimental');
      default:
        r.skip();
        return undefined;
    }
  }

  private internedExpr(i: number): Expr {
    if (this.currentEntry !== NONE && i >= this.currentEntry)
      this.fail(
        `interned expression ${this.currentEntry} refers to interned expression ${i} (must be smaller)`,
      );
    if (i >= this.exprRanges.length) this.fail(`invalid interned expression index ${i}`);
    if (i >= this.exprs.length) {
      // Decode the table prefix in index order: every entry only refers to earlier ones, so no entry recurses
      // into another entry's decoding and long reference chains cannot exhaust the stack.
      const r = this.r;
      const saved = r.pos;
      try {
        for (let j = this.exprs.length; j <= i; j++) {
          const [start, end] = this.exprRanges[j]!;
          this.currentEntry = j;
          r.pos = start;
          this.exprs.push(this.exprEntry(end));
        }
      } finally {
        this.currentEntry = NONE;
        r.pos = saved;
      }
    }
    return this.exprs[i]!;
  }

  private exprEntry(end: number): Expr {
    const r = this.r;
    const start = r.pos;
    while (r.pos < end) {
      if (r.tag() === 44)
        this.fail('interned expression entry refers directly to another interned expression');
      r.skip();
    }
    r.pos = start;
    return this.expr(end);
  }

  private builtinCon(code: number): BuiltinCon {
    const con = BUILTIN_CONS[code];
    if (con === undefined) this.unknownEnum('BuiltinCon', code);
    return con;
  }

  private builtinLit(end: number): BuiltinLit {
    const r = this.r;
    let lit: BuiltinLit | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          lit = { tag: 'Int64', value: r.sint64() };
          break;
        case 2: {
          const micros = r.sfixed64();
          if (micros < MIN_TIMESTAMP_MICROS || micros > MAX_TIMESTAMP_MICROS)
            this.fail(`timestamp literal ${micros} is out of range`);
          lit = { tag: 'Timestamp', micros };
          break;
        }
        case 3: {
          const text = this.str(r.index());
          const m = NUMERIC_RE.exec(text);
          const scale = m?.[2]?.length ?? 0;
          const precision = m === null ? 0 : m[1] === '0' ? scale : m[1]!.length + scale;
          if (m === null || scale > MAX_NUMERIC_SCALE || precision > MAX_NUMERIC_PRECISION)
            this.fail(`invalid numeric literal ${JSON.stringify(text.slice(0, 80))}`);
          lit = { tag: 'Numeric', text, scale };
          break;
        }
        case 4:
          lit = { tag: 'Text', value: this.str(r.index()) };
          break;
        case 5: {
          const days = r.int32();
          if (days < MIN_DATE_DAYS || days > MAX_DATE_DAYS) this.fail(`date literal ${days} is out of range`);
          lit = { tag: 'Date', days };
          break;
        }
        case 6: {
          const code = r.int32();
          if (code === 0) lit = { tag: 'FailureCategory', value: 'InvalidIndependentOfSystemState' };
          else if (code === 1) lit = { tag: 'FailureCategory', value: 'InvalidGivenCurrentSystemStateOther' };
          else this.unknownEnum('FailureCategory', code);
          break;
        }
        case 1001:
          this.unsupported('rounding mode literals');
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (lit === undefined) this.fail('BuiltinLit has no case set');
    return lit;
  }

  /** `Type.Con` as used by record and variant expressions: tycon = 1, args = 2 (each an interned type). */
  private typeConApp(end: number): TypeConApp {
    const r = this.r;
    let tycon: Identifier | undefined;
    const args: Type[] = [];
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          tycon = this.identifier(r.len());
          break;
        case 2:
          args.push(this.typeRef(r.len()));
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (tycon === undefined) this.fail('Type.Con.tycon is missing');
    return { tycon, args };
  }

  private recCon(end: number): Expr {
    const r = this.r;
    let tycon: TypeConApp | undefined;
    const fields: FieldWithExpr[] = [];
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          tycon = this.typeConApp(r.len());
          break;
        case 2:
          fields.push(this.fieldWithExpr(r.len()));
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (tycon === undefined) this.fail('RecCon.tycon is missing');
    return { tag: 'RecCon', tycon, fields };
  }

  private recProj(end: number): Expr {
    const r = this.r;
    let tycon: TypeConApp | undefined;
    let field = 0;
    let record: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          tycon = this.typeConApp(r.len());
          break;
        case 4:
          field = r.index();
          break;
        case 3:
          record = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (tycon === undefined || record === undefined) this.fail('RecProj lacks tycon or record');
    return { tag: 'RecProj', tycon, field: this.name(field), record };
  }

  private recUpd(end: number): Expr {
    const r = this.r;
    let tycon: TypeConApp | undefined;
    let field = 0;
    let record: Expr | undefined;
    let update: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          tycon = this.typeConApp(r.len());
          break;
        case 2:
          field = r.index();
          break;
        case 3:
          record = this.expr(r.len());
          break;
        case 4:
          update = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (tycon === undefined || record === undefined || update === undefined)
      this.fail('RecUpd lacks tycon, record or update');
    return { tag: 'RecUpd', tycon, field: this.name(field), record, update };
  }

  private variantCon(end: number): Expr {
    const r = this.r;
    let tycon: TypeConApp | undefined;
    let variant = 0;
    let arg: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          tycon = this.typeConApp(r.len());
          break;
        case 2:
          variant = r.index();
          break;
        case 3:
          arg = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (tycon === undefined || arg === undefined) this.fail('VariantCon lacks tycon or argument');
    return { tag: 'VariantCon', tycon, variant: this.name(variant), arg };
  }

  private enumCon(end: number): Expr {
    const r = this.r;
    let tycon: Identifier | undefined;
    let con = 0;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          tycon = this.identifier(r.len());
          break;
        case 2:
          con = r.index();
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (tycon === undefined) this.fail('EnumCon.tycon is missing');
    return { tag: 'EnumCon', tycon, con: this.name(con) };
  }

  /** A message with an interned field name and one or two expressions (StructProj, StructUpd). */
  private fieldAndExprs(
    end: number,
    fieldNo: number,
    aNo: number,
    bNo: number,
  ): { field: string; a: Expr; b: Expr | undefined } {
    const r = this.r;
    let field = 0;
    let a: Expr | undefined;
    let b: Expr | undefined;
    while (r.pos < end) {
      const f = r.tag();
      if (f === fieldNo) field = r.index();
      else if (f === aNo) a = this.expr(r.len());
      else if (bNo !== 0 && f === bNo) b = this.expr(r.len());
      else r.skip();
    }
    r.done(end);
    if (a === undefined || (bNo !== 0 && b === undefined))
      this.fail('struct projection/update lacks an expression');
    return { field: this.name(field), a, b };
  }

  private app(end: number): Expr {
    const r = this.r;
    let fun: Expr | undefined;
    const args: Expr[] = [];
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          fun = this.expr(r.len());
          break;
        case 2:
          args.push(this.expr(r.len()));
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (fun === undefined) this.fail('App.fun is missing');
    if (args.length === 0) this.fail('unexpected empty App.args');
    return { tag: 'App', fun, args };
  }

  private tyApp(end: number): Expr {
    const r = this.r;
    let expr: Expr | undefined;
    const types: Type[] = [];
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          expr = this.expr(r.len());
          break;
        case 2:
          types.push(this.typeRef(r.len()));
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (expr === undefined) this.fail('TyApp.expr is missing');
    this.arity(types.length, 'TyApp.types');
    return { tag: 'TyApp', expr, types };
  }

  private abs(end: number): Expr {
    const r = this.r;
    const params: VarWithType[] = [];
    let body: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          params.push(this.varWithType(r.len()));
          break;
        case 2:
          body = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    this.arity(params.length, 'Abs.param');
    if (body === undefined) this.fail('Abs.body is missing');
    return { tag: 'Abs', params, body };
  }

  private tyAbs(end: number): Expr {
    const r = this.r;
    const params: TypeVarWithKind[] = [];
    let body: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          params.push(this.typeVarWithKind(r.len()));
          break;
        case 2:
          body = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    this.arity(params.length, 'TyAbs.param');
    if (body === undefined) this.fail('TyAbs.body is missing');
    return { tag: 'TyAbs', params, body };
  }

  private caseExpr(end: number): Expr {
    const r = this.r;
    let scrut: Expr | undefined;
    const alts: CaseAlt[] = [];
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          scrut = this.expr(r.len());
          break;
        case 2:
          alts.push(this.caseAlt(r.len()));
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (scrut === undefined) this.fail('Case.scrut is missing');
    return { tag: 'Case', scrut, alts };
  }

  private caseAlt(end: number): CaseAlt {
    const r = this.r;
    let pattern: CasePattern | undefined;
    let body: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          body = this.expr(r.len());
          break;
        case 2:
          r.skip();
          pattern = { tag: 'Default' };
          break;
        case 3: {
          const e = r.len();
          let tycon: Identifier | undefined;
          let variant = 0;
          let binder = 0;
          while (r.pos < e) {
            switch (r.tag()) {
              case 1:
                tycon = this.identifier(r.len());
                break;
              case 2:
                variant = r.index();
                break;
              case 3:
                binder = r.index();
                break;
              default:
                r.skip();
            }
          }
          r.done(e);
          if (tycon === undefined) this.fail('CaseAlt.Variant.con is missing');
          pattern = { tag: 'Variant', tycon, variant: this.name(variant), binder: this.name(binder) };
          break;
        }
        case 4:
          pattern = { tag: 'BuiltinCon', con: this.builtinCon(r.int32()) };
          break;
        case 5:
          r.skip();
          pattern = { tag: 'Nil' };
          break;
        case 6: {
          const e = r.len();
          let head = 0;
          let tail = 0;
          while (r.pos < e) {
            const f = r.tag();
            if (f === 1) head = r.index();
            else if (f === 2) tail = r.index();
            else r.skip();
          }
          r.done(e);
          pattern = { tag: 'Cons', head: this.name(head), tail: this.name(tail) };
          break;
        }
        case 7:
          r.skip();
          pattern = { tag: 'OptionalNone' };
          break;
        case 8: {
          const e = r.len();
          let binder = 0;
          while (r.pos < e) {
            if (r.tag() === 1) binder = r.index();
            else r.skip();
          }
          r.done(e);
          pattern = { tag: 'OptionalSome', binder: this.name(binder) };
          break;
        }
        case 9: {
          const e = r.len();
          let tycon: Identifier | undefined;
          let con = 0;
          while (r.pos < e) {
            const f = r.tag();
            if (f === 1) tycon = this.identifier(r.len());
            else if (f === 2) con = r.index();
            else r.skip();
          }
          r.done(e);
          if (tycon === undefined) this.fail('CaseAlt.Enum.con is missing');
          pattern = { tag: 'Enum', tycon, con: this.name(con) };
          break;
        }
        default:
          r.skip();
      }
    }
    r.done(end);
    if (pattern === undefined) this.fail('CaseAlt has no pattern case set');
    if (body === undefined) this.fail('CaseAlt.body is missing');
    return { pattern, body };
  }

  private block(end: number): { bindings: Binding[]; body: Expr } {
    const r = this.r;
    const bindings: Binding[] = [];
    let body: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          bindings.push(this.binding(r.len()));
          break;
        case 2:
          body = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (body === undefined) this.fail('Block.body is missing');
    return { bindings, body };
  }

  private cons(end: number): Expr {
    const r = this.r;
    let type: Type | undefined;
    const front: Expr[] = [];
    let tail: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          type = this.typeRef(r.len());
          break;
        case 2:
          front.push(this.expr(r.len()));
          break;
        case 3:
          tail = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (front.length === 0) this.fail('unexpected empty Cons.front');
    if (type === undefined || tail === undefined) this.fail('Cons lacks type or tail');
    return { tag: 'Cons', type, front, tail };
  }

  /** A message holding just a type at `fieldNo`. */
  private typeField(end: number, fieldNo: number, what: string): Type {
    const r = this.r;
    let type: Type | undefined;
    while (r.pos < end) {
      if (r.tag() === fieldNo) type = this.typeRef(r.len());
      else r.skip();
    }
    r.done(end);
    if (type === undefined) this.fail(`${what} is missing`);
    return type;
  }

  /** `{ Type type = 1; Expr expr = 2; }` messages (OptionalSome, ToAny, FromAny, …, Pure, EmbedExpr). */
  private typeAndExpr(end: number, what: string): { type: Type; expr: Expr } {
    const r = this.r;
    let type: Type | undefined;
    let expr: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          type = this.typeRef(r.len());
          break;
        case 2:
          expr = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (type === undefined || expr === undefined) this.fail(`${what} lacks its type or expression`);
    return { type, expr };
  }

  /** `{ TypeConId id = 1; Expr expr = 2; }` messages (interface views, signatories, create/fetch …). */
  private idAndExpr(end: number, what: string): { id: Identifier; expr: Expr } {
    const r = this.r;
    let id: Identifier | undefined;
    let expr: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          id = this.identifier(r.len());
          break;
        case 2:
          expr = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (id === undefined || expr === undefined) this.fail(`${what} lacks its type constructor or expression`);
    return { id, expr };
  }

  /** `{ TypeConId 1; TypeConId 2; Expr 3; [Expr 4] }` messages (interface conversions). */
  private twoIdsAndExprs(
    end: number,
    what: string,
    two: boolean,
  ): { id1: Identifier; id2: Identifier; a: Expr; b: Expr | undefined } {
    const r = this.r;
    let id1: Identifier | undefined;
    let id2: Identifier | undefined;
    let a: Expr | undefined;
    let b: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          id1 = this.identifier(r.len());
          break;
        case 2:
          id2 = this.identifier(r.len());
          break;
        case 3:
          a = this.expr(r.len());
          break;
        case 4:
          if (two) b = this.expr(r.len());
          else r.skip();
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (id1 === undefined || id2 === undefined || a === undefined || (two && b === undefined))
      this.fail(`${what} lacks a type constructor or expression`);
    return { id1, id2, a, b };
  }

  private throwExpr(end: number): Expr {
    const r = this.r;
    let returnType: Type | undefined;
    let exceptionType: Type | undefined;
    let exception: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          returnType = this.typeRef(r.len());
          break;
        case 2:
          exceptionType = this.typeRef(r.len());
          break;
        case 3:
          exception = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (returnType === undefined || exceptionType === undefined || exception === undefined)
      this.fail('Throw lacks a type or the exception');
    return { tag: 'Throw', returnType, exceptionType, exception };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Updates

  private update(end: number): Update {
    const r = this.r;
    let u: Update | undefined;
    let unknown = 0;
    while (r.pos < end) {
      const f = r.tag();
      switch (f) {
        case 1: {
          const m = this.typeAndExpr(r.len(), 'Update.Pure');
          u = { tag: 'Pure', type: m.type, expr: m.expr };
          break;
        }
        case 2: {
          const b = this.block(r.len());
          u = { tag: 'Block', bindings: b.bindings, body: b.body };
          break;
        }
        case 3: {
          const m = this.idAndExpr(r.len(), 'Update.Create');
          u = { tag: 'Create', template: m.id, arg: m.expr };
          break;
        }
        case 4:
          u = this.exercise(r.len(), false);
          break;
        case 5: {
          const m = this.idAndExpr(r.len(), 'Update.Fetch');
          u = { tag: 'Fetch', template: m.id, cid: m.expr };
          break;
        }
        case 6:
          r.skip();
          u = { tag: 'GetTime' };
          break;
        case 7: {
          const m = this.typeAndExpr(r.len(), 'Update.EmbedExpr');
          u = { tag: 'EmbedExpr', type: m.type, body: m.expr };
          break;
        }
        case 9:
        case 10:
        case 16:
          this.unsupported('contract key updates');
          break;
        case 11:
          u = this.tryCatch(r.len());
          break;
        case 12: {
          const m = this.idAndExpr(r.len(), 'Update.CreateInterface');
          u = { tag: 'CreateInterface', iface: m.id, arg: m.expr };
          break;
        }
        case 13:
          u = this.exercise(r.len(), true);
          break;
        case 14: {
          const m = this.idAndExpr(r.len(), 'Update.FetchInterface');
          u = { tag: 'FetchInterface', iface: m.id, cid: m.expr };
          break;
        }
        case 15:
          u = { tag: 'LedgerTimeLt', time: this.expr(r.len()) };
          break;
        default:
          unknown = f;
          r.skip();
      }
    }
    r.done(end);
    if (u === undefined)
      this.fail(
        unknown === 0 ? 'Update has no case set' : `Update has no known case (unknown field ${unknown})`,
      );
    return u;
  }

  /** Exercise (template = 1, choice = 6, cid = 3, arg = 5) or ExerciseInterface (1, 2, 3, 4; guard 5 is dev). */
  private exercise(end: number, viaInterface: boolean): Update {
    const r = this.r;
    const choiceField = viaInterface ? 2 : 6;
    const argField = viaInterface ? 4 : 5;
    let id: Identifier | undefined;
    let choice = 0;
    let cid: Expr | undefined;
    let arg: Expr | undefined;
    while (r.pos < end) {
      const f = r.tag();
      if (f === 1) id = this.identifier(r.len());
      else if (f === choiceField) choice = r.index();
      else if (f === 3) cid = this.expr(r.len());
      else if (f === argField) arg = this.expr(r.len());
      else if (viaInterface && f === 5) this.unsupported('exercise guards');
      else r.skip();
    }
    r.done(end);
    if (id === undefined || cid === undefined || arg === undefined)
      this.fail('exercise lacks its type constructor, contract id or argument');
    const choiceName = this.name(choice);
    return viaInterface
      ? { tag: 'ExerciseInterface', iface: id, choice: choiceName, cid, arg }
      : { tag: 'Exercise', template: id, choice: choiceName, cid, arg };
  }

  private tryCatch(end: number): Update {
    const r = this.r;
    let returnType: Type | undefined;
    let tryExpr: Expr | undefined;
    let binder = 0;
    let catchExpr: Expr | undefined;
    while (r.pos < end) {
      switch (r.tag()) {
        case 1:
          returnType = this.typeRef(r.len());
          break;
        case 2:
          tryExpr = this.expr(r.len());
          break;
        case 3:
          binder = r.index();
          break;
        case 4:
          catchExpr = this.expr(r.len());
          break;
        default:
          r.skip();
      }
    }
    r.done(end);
    if (returnType === undefined || tryExpr === undefined || catchExpr === undefined)
      this.fail('TryCatch lacks its return type, body or handler');
    return { tag: 'TryCatch', returnType, tryExpr, binder: this.name(binder), catchExpr };
  }
}

function withLocation<T extends object>(def: T, location: Location | undefined): T & { location?: Location } {
  return location === undefined ? def : { ...def, location };
}

function showId(id: Identifier): string {
  return `${id.packageId}:${id.module.join('.')}:${id.name.join('.')}`;
}
