/**
 * The in-JVM NAT simulation (docs/architecture.md, "Simulation and lab"): a UDP network on virtual time on which the
 * real node code runs.
 *
 * <ul>
 *   <li>{@link io.meshwork.simulation.DiscreteEventScheduler} is the clock: tasks ordered by due time and then by
 *       the order they were scheduled, run on the driver's thread; one seeded {@code Random} serves every random
 *       choice (jitter, loss, port allocation), so a seed fixes the whole run.</li>
 *   <li>{@link io.meshwork.simulation.VirtualNetwork} holds {@link io.meshwork.simulation.Site}s (the internet,
 *       and private LANs behind {@link io.meshwork.simulation.NatBox}es, nestable), {@link io.meshwork.simulation.Host}s
 *       and {@link io.meshwork.simulation.Link}s; {@link io.meshwork.simulation.VirtualTransport} is a host's socket
 *       behind the node's {@code PacketTransport} seam.</li>
 *   <li>{@link io.meshwork.simulation.NatPreset} builds the grid's situations; {@link io.meshwork.simulation.SimStunServer}
 *       runs the real STUN responder; {@link io.meshwork.simulation.VirtualTimeExecutor} gives timer-based code
 *       virtual time; {@link io.meshwork.simulation.Simulation} bundles the three for a scenario.</li>
 * </ul>
 */
package io.meshwork.simulation;
