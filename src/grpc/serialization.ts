import type * as grpc from '@grpc/grpc-js';
import type { ServiceType } from '@protobuf-ts/runtime-rpc';
import { asBuffer, FAST_WRITE_OPTIONS } from '../wire/index.js';

/**
 * `definition`, a grpc-js service definition that protobuf-ts generated for `service`, with its messages written
 * by the {@link FAST_WRITE_OPTIONS} writer: the generated serializers use the runtime's writer, which copies every
 * nested message and bytes field into a chunk of its own and joins them at the end, and then copy the result into
 * a Buffer once more (measured: 45 µs against 8 µs for a 5 KB submission). The bytes are the same.
 */
export function withFastSerializers<D extends grpc.ServiceDefinition>(
  definition: D,
  service: ServiceType,
): D {
  const out: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const m = service.methods.find((x) => x.name === method.originalName);
    if (!m) throw new Error(`${service.typeName} has no method ${method.originalName}`);
    out[name] = {
      ...method,
      requestSerialize: (value: object) => asBuffer(m.I.toBinary(value, FAST_WRITE_OPTIONS)),
      responseSerialize: (value: object) => asBuffer(m.O.toBinary(value, FAST_WRITE_OPTIONS)),
    };
  }
  return out as unknown as D;
}
