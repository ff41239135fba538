import assert from "node:assert/strict";
import type { CommandSpec } from "../../cli/command_spec.ts";
import { parseCliArgs } from "../../cli/parse_cli_args.ts";

const SPEC: CommandSpec = {
  command: "deno task demo",
  summary: "Demo.",
  options: [
    { name: "port", type: "string", value: "N", example: "18792", description: "Port" },
    { name: "host", type: "string", value: "HOST", description: "Host" },
    { name: "headless", type: "boolean", description: "No window" },
    { name: "help", type: "boolean", short: "h", description: "Help" },
  ],
  environment: [],
};

function refusal(args: string[], message: string) {
  assert.throws(() => parseCliArgs(args, SPEC), {
    name: "CliError",
    message,
    exitCode: 2,
    showUsage: true,
  });
}

Deno.test("parseCliArgs() reads --name value, --name=value, flags and short aliases", () => {
  const parsed = parseCliArgs(["--port", "1", "--host=::1", "--headless", "-h"], SPEC);
  assert.equal(parsed.string("port"), "1");
  assert.equal(parsed.string("host"), "::1");
  assert.equal(parsed.flag("headless"), true);
  assert.equal(parsed.flag("help"), true);
  assert.equal(parseCliArgs([], SPEC).string("port"), undefined);
  assert.equal(parseCliArgs([], SPEC).flag("headless"), false);
  assert.equal(parseCliArgs(["--host="], SPEC).string("host"), "");
});

Deno.test("parseCliArgs() refuses unknown options, suggesting a near one", () => {
  refusal(["--headles"], 'Unknown option "--headles": did you mean "--headless"?');
  refusal(["--prot", "1"], 'Unknown option "--prot": did you mean "--port"?');
  refusal(["--verbose"], 'Unknown option "--verbose": see "deno task demo --help" for the options');
  refusal(["-x"], 'Unknown option "-x": see "deno task demo --help" for the options');
});

Deno.test("parseCliArgs() refuses a missing value, at the end or before another option", () => {
  refusal(["--port"], 'Option "--port" needs a value, as in "--port 18792"');
  refusal(["--host", "--headless"], 'Option "--host" needs a value, as in "--host HOST"');
});

Deno.test("parseCliArgs() refuses values on flags, repeated options and positional arguments", () => {
  refusal(["--headless=yes"], 'Option "--headless" takes no value: current value is "yes"');
  refusal(["--port", "1", "--port=2"], 'Option "--port" is given twice');
  refusal(
    ["start"],
    'Unexpected argument "start": deno task demo takes only options, such as "--port 18792"',
  );
});
