#include "Cli.h"

#include <iostream>

int main(int argc, char** argv) { return voxseg::cli::main(argc, argv, std::cout, std::cerr); }
