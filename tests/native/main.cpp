// The one translation unit with Catch2's main; every other tests/native/*.cpp holds test cases.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
