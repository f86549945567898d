"""Each backend's source against real servers, the simulated cluster or moto."""
