/**
 * The typed Daml-LF 2.x abstract syntax produced by the decoder (`decode.ts`).
 *
 * Shape decisions (see docs/daml-lf.md):
 * - Every node is a plain object with a `tag`; switch on it. Nodes are immutable and may be shared: an LF 2.2
 *   `interned_exprs` entry, an `interned_types` entry and every reference (`Identifier`) decode to one object per
 *   package, so identity (`===`) can key caches (WeakMap) but equality must be structural.
 * - Expressions keep the archive's arity: `App.args`, `TyApp.types`, `Abs.params`, `TyAbs.params` and
 *   `Let.bindings` hold one or more elements (always exactly one in LF 2.2 flat archives). `App(f, [a, b])` means
 *   `(f a) b`; `Abs([x, y], e)` means `\x -> \y -> e`; `Let([b1, b2], e)` binds sequentially.
 * - Types are canonical: applications are spines (`Con{tycon, args}`, `Builtin`, `Var`), LF 2.2 `TApp` chains are
 *   folded into them, and nested `Forall`s are merged, so two decodings of the same type are structurally equal
 *   whichever archive flavour they came from. Kinds are binary arrows.
 * - Only forms that LF 2.1/2.2 accept appear here; dev-only forms (BigNumeric, choice authorizers, guards,
 *   experimental) and 2.3 contract keys are rejected by the decoder.
 */

/** Lowercase hex SHA-256 of a package's archive payload. */
export type PackageId = string;

/** A dotted name (`DA.Internal.Template`), as its segments. */
export type DottedName = readonly string[];

/** Daml-LF language versions this decoder accepts. */
export type LanguageVersion = '2.1' | '2.2';

/** A resolved reference to a type constructor, type synonym or value: package, module and (dotted) name. */
export interface Identifier {
  readonly packageId: PackageId;
  readonly module: DottedName;
  readonly name: DottedName;
}
export type TypeConId = Identifier;
export type TypeSynId = Identifier;
export type ValueId = Identifier;

/** A resolved module reference (used by source locations). */
export interface ModuleRef {
  readonly packageId: PackageId;
  readonly module: DottedName;
}

/** A source range, 0-indexed lines and columns as in the archive. */
export interface Location {
  /**
   * The module the range is in. Undefined means "the module of the enclosing definition": LF 2.2 interned
   * expressions carry module-less locations and may be shared, so only their user knows the module.
   */
  readonly module?: ModuleRef;
  readonly startLine: number;
  readonly startCol: number;
  readonly endLine: number;
  readonly endCol: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Kinds and types

export type Kind =
  | { readonly tag: 'Star' }
  | { readonly tag: 'Nat' }
  | { readonly tag: 'Arrow'; readonly param: Kind; readonly result: Kind };

/** The stable builtin types, named as in the proto enum `BuiltinType`. */
export type BuiltinType =
  | 'UNIT'
  | 'BOOL'
  | 'INT64'
  | 'DATE'
  | 'TIMESTAMP'
  | 'NUMERIC'
  | 'PARTY'
  | 'TEXT'
  | 'CONTRACT_ID'
  | 'OPTIONAL'
  | 'LIST'
  | 'GENMAP'
  | 'ANY'
  | 'ANY_EXCEPTION'
  | 'TYPE_REP'
  | 'ARROW'
  | 'UPDATE'
  | 'FAILURE_CATEGORY'
  | 'TEXTMAP';

export interface TypeVarWithKind {
  readonly name: string;
  readonly kind: Kind;
}

export interface FieldWithType {
  readonly field: string;
  readonly type: Type;
}

export type Type =
  /** A type variable applied to zero or more arguments. */
  | { readonly tag: 'Var'; readonly name: string; readonly args: readonly Type[] }
  /** A (possibly partially) applied type constructor. */
  | { readonly tag: 'Con'; readonly tycon: TypeConId; readonly args: readonly Type[] }
  /** A (possibly partially) applied builtin type; `ARROW [a, b]` is `a -> b`, `NUMERIC [Nat n]` is `Numeric n`. */
  | { readonly tag: 'Builtin'; readonly builtin: BuiltinType; readonly args: readonly Type[] }
  /** A fully applied type synonym (not expanded by the decoder; see the registry). */
  | { readonly tag: 'Syn'; readonly tysyn: TypeSynId; readonly args: readonly Type[] }
  | { readonly tag: 'Forall'; readonly vars: readonly TypeVarWithKind[]; readonly body: Type }
  | { readonly tag: 'Struct'; readonly fields: readonly FieldWithType[] }
  /** A type-level natural, 0..37 (Numeric scales). */
  | { readonly tag: 'Nat'; readonly value: number };

/** A type constructor applied to arguments, as carried by record/variant expressions. */
export interface TypeConApp {
  readonly tycon: TypeConId;
  readonly args: readonly Type[];
}

// ---------------------------------------------------------------------------------------------------------------
// Builtins

/** The stable builtin functions, named as in the proto enum `BuiltinFunction`. */
export const BUILTIN_FUNCTIONS = [
  'TRACE',
  'ERROR',
  'EQUAL',
  'LESS_EQ',
  'LESS',
  'GREATER_EQ',
  'GREATER',
  'ADD_INT64',
  'SUB_INT64',
  'MUL_INT64',
  'DIV_INT64',
  'MOD_INT64',
  'EXP_INT64',
  'ADD_NUMERIC',
  'SUB_NUMERIC',
  'MUL_NUMERIC',
  'DIV_NUMERIC',
  'ROUND_NUMERIC',
  'CAST_NUMERIC',
  'SHIFT_NUMERIC',
  'INT64_TO_NUMERIC',
  'NUMERIC_TO_INT64',
  'INT64_TO_TEXT',
  'NUMERIC_TO_TEXT',
  'TIMESTAMP_TO_TEXT',
  'DATE_TO_TEXT',
  'PARTY_TO_TEXT',
  'TEXT_TO_PARTY',
  'TEXT_TO_INT64',
  'TEXT_TO_NUMERIC',
  'CONTRACT_ID_TO_TEXT',
  'SHA256_TEXT',
  'EXPLODE_TEXT',
  'APPEND_TEXT',
  'IMPLODE_TEXT',
  'CODE_POINTS_TO_TEXT',
  'TEXT_TO_CODE_POINTS',
  'DATE_TO_UNIX_DAYS',
  'UNIX_DAYS_TO_DATE',
  'TIMESTAMP_TO_UNIX_MICROSECONDS',
  'UNIX_MICROSECONDS_TO_TIMESTAMP',
  'COERCE_CONTRACT_ID',
  'FOLDL',
  'FOLDR',
  'EQUAL_LIST',
  'GENMAP_EMPTY',
  'GENMAP_INSERT',
  'GENMAP_LOOKUP',
  'GENMAP_DELETE',
  'GENMAP_KEYS',
  'GENMAP_VALUES',
  'GENMAP_SIZE',
  'TEXTMAP_EMPTY',
  'TEXTMAP_INSERT',
  'TEXTMAP_LOOKUP',
  'TEXTMAP_DELETE',
  'TEXTMAP_TO_LIST',
  'TEXTMAP_SIZE',
  'ANY_EXCEPTION_MESSAGE',
  'FAIL_WITH_STATUS',
  'KECCAK256_TEXT',
  'SECP256K1_BOOL',
  'HEX_TO_TEXT',
  'TEXT_TO_HEX',
  'SHA256_HEX',
  'SECP256K1_WITH_ECDSA_BOOL',
  'SECP256K1_VALIDATE_KEY',
] as const;
export type BuiltinFunction = (typeof BUILTIN_FUNCTIONS)[number];

export type BuiltinCon = 'Unit' | 'False' | 'True';

/** `failWithStatus` categories, as in Canton's error categories. */
export type FailureCategory = 'InvalidIndependentOfSystemState' | 'InvalidGivenCurrentSystemStateOther';

export type BuiltinLit =
  /** Signed 64-bit integer. */
  | { readonly tag: 'Int64'; readonly value: bigint }
  /** Numeric literal as written in the archive (e.g. `"1.5000000000"`); `scale` = digits after the dot. */
  | { readonly tag: 'Numeric'; readonly text: string; readonly scale: number }
  | { readonly tag: 'Text'; readonly value: string }
  /** Microseconds since the Unix epoch, within 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z. */
  | { readonly tag: 'Timestamp'; readonly micros: bigint }
  /** Days since the Unix epoch, within 0001-01-01..9999-12-31. */
  | { readonly tag: 'Date'; readonly days: number }
  | { readonly tag: 'FailureCategory'; readonly value: FailureCategory };

// ---------------------------------------------------------------------------------------------------------------
// Expressions

export interface VarWithType {
  readonly name: string;
  readonly type: Type;
}

export interface FieldWithExpr {
  readonly field: string;
  readonly expr: Expr;
}

export interface Binding {
  readonly binder: string;
  readonly type: Type;
  readonly bound: Expr;
}

export type Expr =
  /** A source location wrapped around an expression (purely informational). */
  | { readonly tag: 'Loc'; readonly loc: Location; readonly expr: Expr }
  | { readonly tag: 'Var'; readonly name: string }
  | { readonly tag: 'Val'; readonly ref: ValueId }
  | { readonly tag: 'Builtin'; readonly fn: BuiltinFunction }
  | { readonly tag: 'BuiltinCon'; readonly con: BuiltinCon }
  | { readonly tag: 'BuiltinLit'; readonly lit: BuiltinLit }
  | { readonly tag: 'RecCon'; readonly tycon: TypeConApp; readonly fields: readonly FieldWithExpr[] }
  | { readonly tag: 'RecProj'; readonly tycon: TypeConApp; readonly field: string; readonly record: Expr }
  | {
      readonly tag: 'RecUpd';
      readonly tycon: TypeConApp;
      readonly field: string;
      readonly record: Expr;
      readonly update: Expr;
    }
  | { readonly tag: 'VariantCon'; readonly tycon: TypeConApp; readonly variant: string; readonly arg: Expr }
  | { readonly tag: 'EnumCon'; readonly tycon: TypeConId; readonly con: string }
  | { readonly tag: 'StructCon'; readonly fields: readonly FieldWithExpr[] }
  | { readonly tag: 'StructProj'; readonly field: string; readonly struct: Expr }
  | { readonly tag: 'StructUpd'; readonly field: string; readonly struct: Expr; readonly update: Expr }
  | { readonly tag: 'App'; readonly fun: Expr; readonly args: readonly Expr[] }
  | { readonly tag: 'TyApp'; readonly expr: Expr; readonly types: readonly Type[] }
  | { readonly tag: 'Abs'; readonly params: readonly VarWithType[]; readonly body: Expr }
  | { readonly tag: 'TyAbs'; readonly params: readonly TypeVarWithKind[]; readonly body: Expr }
  | { readonly tag: 'Case'; readonly scrut: Expr; readonly alts: readonly CaseAlt[] }
  | { readonly tag: 'Let'; readonly bindings: readonly Binding[]; readonly body: Expr }
  /** `Nil @type`: `type` is the element type. */
  | { readonly tag: 'Nil'; readonly type: Type }
  /** `Cons @type [front…] tail`: `front` is non-empty. */
  | { readonly tag: 'Cons'; readonly type: Type; readonly front: readonly Expr[]; readonly tail: Expr }
  | { readonly tag: 'Update'; readonly update: Update }
  | { readonly tag: 'OptionalNone'; readonly type: Type }
  | { readonly tag: 'OptionalSome'; readonly type: Type; readonly value: Expr }
  | { readonly tag: 'ToAny'; readonly type: Type; readonly expr: Expr }
  | { readonly tag: 'FromAny'; readonly type: Type; readonly expr: Expr }
  | { readonly tag: 'TypeRep'; readonly type: Type }
  | { readonly tag: 'ToAnyException'; readonly type: Type; readonly expr: Expr }
  | { readonly tag: 'FromAnyException'; readonly type: Type; readonly expr: Expr }
  | {
      readonly tag: 'Throw';
      readonly returnType: Type;
      readonly exceptionType: Type;
      readonly exception: Expr;
    }
  | {
      readonly tag: 'ToInterface';
      readonly iface: TypeConId;
      readonly template: TypeConId;
      readonly expr: Expr;
    }
  | {
      readonly tag: 'FromInterface';
      readonly iface: TypeConId;
      readonly template: TypeConId;
      readonly expr: Expr;
    }
  | {
      /** LF 2.1 only (removed in 2.2): the template payload, or WronglyTypedContract naming `contractId`. */
      readonly tag: 'UnsafeFromInterface';
      readonly iface: TypeConId;
      readonly template: TypeConId;
      readonly contractId: Expr;
      readonly expr: Expr;
    }
  | { readonly tag: 'CallInterface'; readonly iface: TypeConId; readonly method: string; readonly expr: Expr }
  | { readonly tag: 'SignatoryInterface'; readonly iface: TypeConId; readonly expr: Expr }
  | { readonly tag: 'ObserverInterface'; readonly iface: TypeConId; readonly expr: Expr }
  | { readonly tag: 'ViewInterface'; readonly iface: TypeConId; readonly expr: Expr }
  | { readonly tag: 'InterfaceTemplateTypeRep'; readonly iface: TypeConId; readonly expr: Expr }
  | {
      readonly tag: 'ToRequiredInterface';
      readonly requiredIface: TypeConId;
      readonly requiringIface: TypeConId;
      readonly expr: Expr;
    }
  | {
      readonly tag: 'FromRequiredInterface';
      readonly requiredIface: TypeConId;
      readonly requiringIface: TypeConId;
      readonly expr: Expr;
    }
  | {
      readonly tag: 'UnsafeFromRequiredInterface';
      readonly requiredIface: TypeConId;
      readonly requiringIface: TypeConId;
      readonly contractId: Expr;
      readonly expr: Expr;
    };

export type ExprTag = Expr['tag'];

export type CasePattern =
  | { readonly tag: 'Default' }
  | { readonly tag: 'Variant'; readonly tycon: TypeConId; readonly variant: string; readonly binder: string }
  | { readonly tag: 'Enum'; readonly tycon: TypeConId; readonly con: string }
  | { readonly tag: 'BuiltinCon'; readonly con: BuiltinCon }
  | { readonly tag: 'Nil' }
  | { readonly tag: 'Cons'; readonly head: string; readonly tail: string }
  | { readonly tag: 'OptionalNone' }
  | { readonly tag: 'OptionalSome'; readonly binder: string };

export interface CaseAlt {
  readonly pattern: CasePattern;
  readonly body: Expr;
}

export type Update =
  | { readonly tag: 'Pure'; readonly type: Type; readonly expr: Expr }
  /** `bindings` are sequential monadic binds (`x <- e`), then `body` (an Update) runs. */
  | { readonly tag: 'Block'; readonly bindings: readonly Binding[]; readonly body: Expr }
  | { readonly tag: 'Create'; readonly template: TypeConId; readonly arg: Expr }
  | { readonly tag: 'CreateInterface'; readonly iface: TypeConId; readonly arg: Expr }
  | {
      readonly tag: 'Exercise';
      readonly template: TypeConId;
      readonly choice: string;
      readonly cid: Expr;
      readonly arg: Expr;
    }
  | {
      readonly tag: 'ExerciseInterface';
      readonly iface: TypeConId;
      readonly choice: string;
      readonly cid: Expr;
      readonly arg: Expr;
    }
  | { readonly tag: 'Fetch'; readonly template: TypeConId; readonly cid: Expr }
  | { readonly tag: 'FetchInterface'; readonly iface: TypeConId; readonly cid: Expr }
  | { readonly tag: 'GetTime' }
  /** `ledgerTimeLT t`: whether the ledger time is before `t`; narrows the time bounds. */
  | { readonly tag: 'LedgerTimeLt'; readonly time: Expr }
  | { readonly tag: 'EmbedExpr'; readonly type: Type; readonly body: Expr }
  | {
      readonly tag: 'TryCatch';
      readonly returnType: Type;
      readonly tryExpr: Expr;
      /** Bound to the `AnyException` in `catchExpr`, which evaluates to `Optional (Update returnType)`. */
      readonly binder: string;
      readonly catchExpr: Expr;
    };

export type UpdateTag = Update['tag'];

// ---------------------------------------------------------------------------------------------------------------
// Definitions

export type DataCons =
  | { readonly tag: 'Record'; readonly fields: readonly FieldWithType[] }
  /** Each constructor with its argument type (`field` is the constructor name). */
  | { readonly tag: 'Variant'; readonly variants: readonly FieldWithType[] }
  | { readonly tag: 'Enum'; readonly constructors: readonly string[] }
  /** The data type standing for an interface (no value-level constructors). */
  | { readonly tag: 'Interface' };

export interface DefDataType {
  readonly name: DottedName;
  readonly params: readonly TypeVarWithKind[];
  readonly serializable: boolean;
  readonly cons: DataCons;
  readonly location?: Location;
}

export interface DefTypeSyn {
  readonly name: DottedName;
  readonly params: readonly TypeVarWithKind[];
  readonly type: Type;
  readonly location?: Location;
}

/** A top-level value definition. */
export interface DefValue {
  readonly name: DottedName;
  readonly type: Type;
  readonly expr: Expr;
  readonly location?: Location;
}

export interface TemplateChoice {
  readonly name: string;
  readonly consuming: boolean;
  /** A `[Party]` expression with the template's `param` and `argBinder` in scope. */
  readonly controllers: Expr;
  /** Choice observers, a `[Party]` expression scoped like `controllers`; present in every LF 2 archive. */
  readonly observers: Expr;
  /** Binder of the contract id of the exercised contract inside `update`. */
  readonly selfBinder: string;
  readonly argBinder: VarWithType;
  readonly returnType: Type;
  /** The choice body, an `Update returnType` with `param`, `selfBinder` and `argBinder` in scope. */
  readonly update: Expr;
  readonly location?: Location;
}

export interface InterfaceInstanceBody {
  /** Method name → implementation (with the template's `param` in scope). */
  readonly methods: ReadonlyMap<string, Expr>;
  /** The interface view (with the template's `param` in scope). */
  readonly view: Expr;
}

/** `template T implements I`: the instance lives on the template side in LF 2. */
export interface TemplateImplements {
  readonly iface: TypeConId;
  readonly body: InterfaceInstanceBody;
  readonly location?: Location;
}

export interface DefTemplate {
  readonly tycon: DottedName;
  /** The name the contract argument is bound to in `precond`, `signatories`, `observers` and choices. */
  readonly param: string;
  /** The `ensure` clause; `True` when the template has none. */
  readonly precond: Expr;
  readonly signatories: Expr;
  readonly observers: Expr;
  readonly choices: ReadonlyMap<string, TemplateChoice>;
  readonly implements: readonly TemplateImplements[];
  readonly location?: Location;
}

export interface InterfaceMethod {
  readonly name: string;
  readonly type: Type;
  readonly location?: Location;
}

export interface DefInterface {
  readonly tycon: DottedName;
  readonly param: string;
  readonly methods: ReadonlyMap<string, InterfaceMethod>;
  readonly choices: ReadonlyMap<string, TemplateChoice>;
  readonly view: Type;
  readonly requires: readonly TypeConId[];
  readonly location?: Location;
}

export interface DefException {
  readonly name: DottedName;
  /** `\(e : T) -> Text`: the exception's message function. */
  readonly message: Expr;
  readonly location?: Location;
}

/**
 * A module. Maps are keyed by the dotted name joined with '.' (or the plain name for choices and methods),
 * in archive order.
 */
export interface Module {
  readonly name: DottedName;
  readonly synonyms: ReadonlyMap<string, DefTypeSyn>;
  readonly dataTypes: ReadonlyMap<string, DefDataType>;
  readonly values: ReadonlyMap<string, DefValue>;
  readonly templates: ReadonlyMap<string, DefTemplate>;
  readonly exceptions: ReadonlyMap<string, DefException>;
  readonly interfaces: ReadonlyMap<string, DefInterface>;
}

export interface PackageMetadata {
  readonly name: string;
  readonly version: string;
  readonly upgradedPackageId?: PackageId;
}

/**
 * A decoded package. Metadata and module names are decoded eagerly; a module's body is decoded on its first
 * `module()` access (and then cached), so inspecting a large closure only pays for what it touches.
 */
export interface Package {
  readonly id: PackageId;
  readonly languageVersion: LanguageVersion;
  readonly metadata: PackageMetadata;
  /** Module names (joined with '.') in archive order. */
  readonly moduleNames: readonly string[];
  /** Explicit package imports (LF 2.2+ `package_imports`), or undefined when the archive gives a reason instead. */
  readonly imports?: readonly PackageId[];
  /** The module named `name` (joined with '.'), decoded on first access; undefined if absent. */
  module(name: string): Module | undefined;
  /** All modules, decoding any not yet decoded. */
  modules(): readonly Module[];
}
