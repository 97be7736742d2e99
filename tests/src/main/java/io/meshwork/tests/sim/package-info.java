/**
 * The in-JVM NAT simulation (docs/architecture.md, "Simulation and lab"): a UDP network on virtual time on which the
 * real node code runs.
 *
 * <ul>
 *   <li>{@link io.meshwork.tests.sim.DiscreteEventScheduler} is the clock: tasks ordered by due time and then by
 *       the order they were scheduled, run on the driver's thread; one seeded {@code Random} serves every random
 *       choice (jitter, loss, port allocation), so a seed fixes the whole run.</li>
 *   <li>{@link io.meshwork.tests.sim.VirtualNetwork} holds {@link io.meshwork.tests.sim.Site}s (the internet,
 *       and private LANs behind {@link io.meshwork.tests.sim.NatBox}es, nestable), {@link io.meshwork.tests.sim.Host}s
 *       and {@link io.meshwork.tests.sim.Link}s; {@link io.meshwork.tests.sim.VirtualTransport} is a host's socket
 *       behind the node's {@code PacketTransport} seam.</li>
 *   <li>{@link io.meshwork.tests.sim.NatPreset} builds the grid's situations; {@link io.meshwork.tests.sim.SimStunServer}
 *       runs the real STUN responder; {@link io.meshwork.tests.sim.VirtualTimeExecutor} gives timer-based code
 *       virtual time; {@link io.meshwork.tests.sim.Simulation} bundles the three for a scenario.</li>
 * </ul>
 */
package io.meshwork.tests.sim;
