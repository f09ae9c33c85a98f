import Specs
