import type { Services } from '../services.js';
import type { Principal } from '../tenancy/tenant-store.js';

export interface AppEnv {
  Variables: {
    services: Services;
    principal: Principal;
    requestId: string;
  };
}
