/**
 * {@code meshwork demo} on the in-JVM NAT simulation, for machines where network namespaces cannot be made:
 * {@link io.meshwork.demo.simulated.DemoScenario} names the sites, {@link io.meshwork.demo.simulated.SimulatedDemo}
 * runs them on {@link io.meshwork.simulation.mesh.SimMesh} frame by frame on the virtual clock, logging every path
 * transition at its instant, and ends with data sent both ways between every pair and a summary.
 */
package io.meshwork.demo.simulated;
