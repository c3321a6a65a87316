import { budgetStop, budgetUsed, etaMs, Throughput } from './budget.js';
import type { EngineStep } from './engine.js';
import type { TrainRun } from './run.js';
import { emaDecayAt, scheduledLearningRate, updateEma } from './schedule.js';

/**
 * The training loop: one engine step per global batch, validating every --eval-every steps and checkpointing every
 * --checkpoint-every, until a budget, the patience or SIGINT (run.stop) ends it.
 */
export async function trainLoop(run: TrainRun): Promise<void> {
  const { options: o, engine, sampler, app, ema } = run.parts;
  const { progress } = run;
  const speed = new Throughput();
  while (!run.stop) {
    run.stop = budgetStop(o, run.step, sampler.epoch, run.elapsedMs());
    if (run.stop) break;
    const batch = sampler.next();
    // --lr-decay: the rate follows the budget used before this step.
    const lr = scheduledLearningRate(o.lr, o.lrDecay, budgetUsed(o, run.step, run.elapsedMs()));
    if (o.lrDecay !== undefined) engine.setLearningRate(lr);
    let r: EngineStep;
    try {
      r = await engine.step(batch, run.step + 1, sampler.peek());
    } catch (err) {
      if (run.stop) break; // interrupted: workers are gone; the last completed step is checkpointed after the loop
      throw err;
    }
    run.step++;
    if (ema) updateEma(ema.weights, engine.params, emaDecayAt(ema.decay, run.step));
    if (r.count < batch.length) app.skippedLines = (app.skippedLines ?? 0) + batch.length - r.count;
    if (r.count === 0) {
      progress?.log(`step ${run.step}: every line of the batch was left out (reported above); no update`);
    } else if (r.skipped || !Number.isFinite(r.loss)) {
      progress?.log(`step ${run.step}: non-finite loss or gradient on lines [${batch.join(', ')}]; update skipped`);
    }
    const linesPerSec = speed.add(r.count);
    await run.metrics.append({
      type: 'train',
      step: run.step,
      epoch: sampler.epoch,
      timeMs: run.elapsedMs(),
      loss: r.loss,
      lines: r.count,
      lr,
      linesPerSec,
      workers: r.workers,
      skipped: r.skipped,
    });
    const eta = etaMs(o, run.step, run.step - run.startStep, run.sessionMs(), run.elapsedMs());
    progress?.update({
      step: run.step,
      maxSteps: o.maxSteps,
      linesPerSec,
      loss: r.loss,
      etaMs: eta,
      workers: engine.liveWorkers,
    });
    if (run.step % run.evalEvery === 0) await run.validate();
    if (run.step % o.checkpointEvery === 0) await run.checkpoint();
  }
}
