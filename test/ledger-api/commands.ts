/**
 * Commands for Ledger API tests written as the JSON API writes them (`tokenCommands`), turned into the protobuf
 * `Command` messages an application built from the protos sends: typed by the DAR's packages as a client's codegen
 * types them, with labelled records (values through the project's `valueToProto`).
 */

import type { Command as JsonCommand } from '../../src/daml/engine/commands.js';
import type { Engine } from '../../src/daml/index.js';
import type { Command } from '../../src/generated/com/daml/ledger/api/v2/commands.js';
import { identifierToProto } from '../../src/ledger-api/identifiers.js';
import { recordToProto, valueToProto } from '../../src/ledger-api/values.js';

export function protoCommands(engine: Engine, commands: readonly unknown[]): Command[] {
  return engine.commands.prepare(commands as JsonCommand[]).map((c): Command => {
    const templateId = identifierToProto(c.templateId);
    switch (c.kind) {
      case 'Create':
        return {
          command: {
            oneofKind: 'create',
            create: { templateId, createArguments: recordToProto(c.arg, true) },
          },
        };
      case 'Exercise':
        return {
          command: {
            oneofKind: 'exercise',
            exercise: {
              templateId,
              contractId: c.contractId.coid,
              choice: c.choice,
              choiceArgument: valueToProto(c.arg, true),
            },
          },
        };
      default:
        return {
          command: {
            oneofKind: 'createAndExercise',
            createAndExercise: {
              templateId,
              createArguments: recordToProto(c.arg, true),
              choice: c.choice,
              choiceArgument: valueToProto(c.choiceArg, true),
            },
          },
        };
    }
  });
}
