// A start-up refusal: unitd cannot do what it was asked without harming something that is already
// there (another instance holds the bus name or the runtime directory, the directory is not safe to
// keep a bus in). It is an answer to the operator, not a bug: main.ts prints the message as one
// plain line and logs it without a stack.
export class StartRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartRefusal';
  }
}
