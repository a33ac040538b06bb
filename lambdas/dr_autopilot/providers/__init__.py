"""Recovery providers: the systems that replicate machines and launch them in AWS."""
