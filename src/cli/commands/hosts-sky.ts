// `kbench hosts up|down`: native hosts on demand through SkyPilot. Adds to the `hosts` command of hosts.ts
// (or creates it when that file is not registered).
import type { Command } from 'commander';
import { DEFAULT_INSTANCE, planSkyUp, SKY_PRICES, skyDown, skyUp, type CommandRunner } from '../../remote/skypilot.js';
import { createProgress } from '../progress.js';
import { nonNegative, wholeMinutes } from '../options.js';
import { jsonOutput } from '../format.js';


const PRICE_LINES = Object.entries(SKY_PRICES.instances).map(([type, i]) => `  ${type.padEnd(11)} ${i.arch.padEnd(8)} $${i.usdPerHour}/h  ${i.note}`);

/** `runner` replaces the real `sky` in tests. */
export function register(program: Command, runner?: CommandRunner): void {
  const hosts = program.commands.find((c) => c.name() === 'hosts') ?? program.command('hosts').description('native hosts: list, and SkyPilot up/down');

  hosts
    .command('up <name>')
    .description('launch a cloud VM with SkyPilot and add it to kbench.config.json as an ssh host')
    .requiredOption('--arch <x86|arm>', 'CPU family of the host')
    .option('--instance-type <type>', `instance type (default ${DEFAULT_INSTANCE.x86} for x86, ${DEFAULT_INSTANCE.arm} for arm)`)
    .option('--spot', `use a spot instance (about ${SKY_PRICES.spotShare * 100}% of the price; torn down, not stopped, when idle)`)
    .option('--autostop <minutes>', 'stop the VM after this many idle minutes', wholeMinutes('--autostop'), 30)
    .option('--infra <infra>', 'SkyPilot infra', 'aws')
    .option('--usd-per-hour <usd>', 'price for an instance type missing from the table', nonNegative('--usd-per-hour'))
    .option('--dry-run', 'print the task YAML, the sky command and the config entry; launch and write nothing')
    .addHelpText(
      'after',
      [
        '',
        `Prices (${SKY_PRICES.source}, ${SKY_PRICES.asOf}):`,
        ...PRICE_LINES,
        '',
        'Writes .kbench/sky/<name>.yaml, runs `sky launch -c <name> <yaml> -d -y`, then adds',
        '{name, executor: "ssh", arch, usdPerHour, cores} to kbench.config.json. Needs `pip install "skypilot[aws]"`.',
        '',
        'Examples:',
        '  kbench hosts up c7i --arch x86 --dry-run',
        '  kbench hosts up c7i --arch x86',
        '  kbench hosts up graviton --arch arm --spot --autostop 20',
        '  kbench hosts up zen4 --arch x86 --instance-type c7a.xlarge',
      ].join('\n'),
    )
    .action(async (name: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const request = { name, arch: o.arch, instanceType: o.instanceType, spot: !!o.spot, autostopMinutes: o.autostop, infra: o.infra, usdPerHour: o.usdPerHour };
      if (o.dryRun) {
        const dry = planSkyUp(process.cwd(), request);
        process.stdout.write(
          g.json
            ? jsonOutput('hosts-up', { dryRun: true, name, yaml: dry.yamlPath, task: dry.yaml, command: ['sky', ...dry.args], configEntry: dry.entry })
            : `# would write ${dry.yamlPath}:\n${dry.yaml}\n# would run: sky ${dry.args.join(' ')}\n# would add to kbench.config.json: ${JSON.stringify(dry.entry)}\n`,
        );
        return;
      }
      const progress = createProgress({ json: !!g.json });
      progress.start(`launching ${name} with SkyPilot (a few minutes)`);
      try {
        const up = await skyUp(process.cwd(), request, runner);
        progress.succeed(`${up.plan.instanceType}${up.plan.spot ? ' (spot)' : ''}, $${up.plan.usdPerHour}/h`);
        const summary = { name, executor: 'ssh', arch: up.host.arch, instanceType: up.plan.instanceType, spot: up.plan.spot, usdPerHour: up.plan.usdPerHour, yaml: up.yamlPath, config: up.configPath };
        process.stdout.write(
          g.json
            ? jsonOutput('hosts-up', { dryRun: false, ...summary })
            : `host ${name} is up (${up.plan.instanceType}, ${up.host.arch}, $${up.plan.usdPerHour}/h); added to ${up.configPath}\n` +
                `task: ${up.yamlPath}\ntry: ssh ${name} true && kbench doctor\n`,
        );
      } catch (e) {
        progress.fail();
        throw e; // a SkyCommandError exits 1 with what sky said (main), without a stack trace
      }
    });

  hosts
    .command('down <name>')
    .description('tear down a SkyPilot host (`sky down <name> -y`) and remove it from kbench.config.json')
    .addHelpText('after', '\nExamples:\n  kbench hosts down c7i\n  kbench hosts down graviton --json')
    .action(async (name: string, _o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const progress = createProgress({ json: !!g.json });
      progress.start(`tearing down ${name}`);
      try {
        const down = await skyDown(process.cwd(), name, runner);
        progress.succeed();
        process.stdout.write(
          g.json
            ? jsonOutput('hosts-down', { name, removedFromConfig: down.removed, config: down.configPath })
            : `host ${name} is down${down.removed ? `; removed from ${down.configPath}` : ` (it was not in ${down.configPath})`}\n`,
        );
      } catch (e) {
        progress.fail();
        throw e; // a SkyCommandError exits 1 with what sky said (main), without a stack trace
      }
    });
}
