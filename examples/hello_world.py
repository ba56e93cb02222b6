from routilux import Routine, Flow, Runtime
from routilux.activation_policies import immediate_policy

class HelloWorld(Routine):
    def __init__(self):
        super().__init__()
        self.add_slot("trigger")
        self.add_event("greeting")

        def say_hello(slot_data, policy_message, worker_state):
            print("Hello, World!")
            self.emit("greeting", message="Hello, World!")

        self.set_logic(say_hello)
        self.set_activation_policy(immediate_policy())

flow = Flow("hello_flow")
flow.add_routine(HelloWorld(), "greeter")

from routilux.monitoring.flow_registry import FlowRegistry
FlowRegistry.get_instance().register_by_name("hello_flow", flow)

with Runtime(thread_pool_size=2) as runtime:
    runtime.exec("hello_flow")
    runtime.post("hello_flow", "greeter", "trigger", {})
    runtime.wait_until_all_jobs_finished(timeout=5.0)
