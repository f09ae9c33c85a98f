import Specs
import Remote
