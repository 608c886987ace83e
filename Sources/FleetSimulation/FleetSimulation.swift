/// Trace readers, synthetic workloads, the discrete-event fleet simulator and peers' routing policies.
public enum FleetSimulation {}
