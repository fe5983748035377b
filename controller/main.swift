import FarmController

// Thin entry point: parse, run, map every outcome to osfarm's exit codes.
await CommandLineRunner.main(Osfarm.self)
