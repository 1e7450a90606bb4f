// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks. local/polyfills.ts is shared with the local stack.
import '../local/polyfills';
